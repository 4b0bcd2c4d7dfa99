"""Write released weights as safetensors (data only: loading them runs no code)."""
from typing import Dict, Optional

import torch
from safetensors.torch import save as safetensors_bytes

from .checkpoint_files import atomic_write


def save_safetensors(state_dict: Dict[str, torch.Tensor], path: str,
                     metadata: Optional[Dict[str, str]] = None) -> None:
    """Save a state dict (e.g. ``checkpoint['state_dict']``) to ``path`` atomically.

    safetensors refuses tensors that share memory (VL-BERT ties the MLM decoder to the
    word embeddings) and non-contiguous ones: each tensor is written as its own
    contiguous copy, so ``safetensors.torch.load_file`` returns every key of the input.

    Args:
        state_dict: name -> tensor (any device; written from a CPU copy).
        path: the ``.safetensors`` file, written with :func:`atomic_write`.
        metadata: string -> string pairs stored in the file's header.

    Raises:
        TypeError: a value is not a tensor, naming its key.
    """
    out = {}
    for k, v in state_dict.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f'{k}: safetensors stores tensors only, got {type(v).__name__}')
        out[k] = v.detach().to('cpu').contiguous().clone()
    atomic_write(safetensors_bytes(out, metadata=metadata), path)
