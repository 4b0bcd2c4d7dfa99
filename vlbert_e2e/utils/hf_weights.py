"""Read a Hugging Face checkpoint's raw state dict (local folder or hub id)."""
import os
from typing import Dict

import torch
from safetensors.torch import load_file
from transformers.utils import cached_file

from .offline_models import resolve_model_path

CANDIDATES = ('model.safetensors', 'pytorch_model.bin')


def load_hf_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """State dict of the weights file in ``path`` (safetensors first; ``.bin`` read
    with ``weights_only=True``). A hub id goes through HF's cache (no download when
    ``HF_HUB_OFFLINE=1``)."""
    path = resolve_model_path(path)
    for name in CANDIDATES:
        if os.path.isdir(path):
            f = os.path.join(path, name)
            f = f if os.path.isfile(f) else None
        else:
            f = cached_file(path, name, _raise_exceptions_for_missing_entries=False)
        if f is None:
            continue
        if f.endswith('.safetensors'):
            return load_file(f)
        return torch.load(f, map_location='cpu', weights_only=True)
    raise FileNotFoundError(f'no {" or ".join(CANDIDATES)} in {path}')
