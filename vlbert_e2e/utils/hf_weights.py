"""Read a Hugging Face checkpoint's raw state dict (local folder or hub id)."""
import os
from typing import Dict

import torch
from transformers.utils import cached_file

from .offline_models import resolve_model_path
from .safe_load import load_checkpoint_file

CANDIDATES = ('model.safetensors', 'pytorch_model.bin')


def load_hf_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """State dict of the weights file in ``path`` (safetensors first), read by
    :func:`~vlbert_e2e.utils.load_checkpoint_file` (a bad file raises its
    ``CheckpointError``). A hub id goes through HF's cache (no download when
    ``HF_HUB_OFFLINE=1``).

    Returns:
        Parameter name -> tensor, with the names the HF model class uses.

    Raises:
        FileNotFoundError: neither ``model.safetensors`` nor ``pytorch_model.bin`` is
            in ``path``.
        CheckpointError: the file found is not a usable checkpoint.
    """
    path = resolve_model_path(path)
    for name in CANDIDATES:
        if os.path.isdir(path):
            f = os.path.join(path, name)
            f = f if os.path.isfile(f) else None
        else:
            f = cached_file(path, name, _raise_exceptions_for_missing_entries=False)
        if f is None:
            continue
        ckpt = load_checkpoint_file(f)
        return ckpt['state_dict'] if f.endswith('.safetensors') else ckpt
    raise FileNotFoundError(f'no {" or ".join(CANDIDATES)} in {path}')
