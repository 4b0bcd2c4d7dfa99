from .hf_weights import load_hf_state_dict
from .offline_models import resolve_model_path
from .safe_load import SAFE_GLOBALS, register_safe_globals

__all__ = ['load_hf_state_dict', 'register_safe_globals', 'SAFE_GLOBALS',
           'resolve_model_path']
