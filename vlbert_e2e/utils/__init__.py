from .checkpoint_files import (
           AtomicLocalBackend,
           atomic_write,
           find_last_complete_checkpoint,
           is_complete_checkpoint,
)
from .hf_weights import load_hf_state_dict
from .offline_models import resolve_model_path
from .safe_load import SAFE_GLOBALS, load_local_checkpoint, register_safe_globals
from .safetensors_io import save_safetensors

__all__ = ['load_hf_state_dict', 'register_safe_globals', 'SAFE_GLOBALS',
           'resolve_model_path', 'load_local_checkpoint', 'atomic_write', 'AtomicLocalBackend',
           'find_last_complete_checkpoint', 'is_complete_checkpoint', 'save_safetensors']
