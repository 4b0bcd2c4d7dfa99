from .checkpoint_files import (
           AtomicLocalBackend,
           atomic_write,
           checkpoint_file_problem,
           find_last_complete_checkpoint,
           is_complete_checkpoint,
)
from .class_names import detector_class_names, label_name
from .hf_weights import load_hf_state_dict
from .offline_models import quiet_transformers, resolve_model_path
from .safe_load import (
           SAFE_GLOBALS,
           CheckpointError,
           check_checkpoint_file,
           load_checkpoint_file,
           load_local_checkpoint,
)
from .safetensors_io import save_safetensors
from .setup_env import install_safe_loading, register_all_modules
from .state_dict_match import (
           apply_checkpoint,
           check_checkpoint_keys,
           compare_state_dicts,
           load_weights,
)

__all__ = ['load_hf_state_dict', 'register_all_modules', 'install_safe_loading', 'SAFE_GLOBALS',
           'resolve_model_path', 'quiet_transformers', 'load_local_checkpoint', 'atomic_write',
           'AtomicLocalBackend',
           'find_last_complete_checkpoint', 'is_complete_checkpoint', 'save_safetensors',
           'CheckpointError', 'check_checkpoint_file', 'load_checkpoint_file',
           'checkpoint_file_problem', 'check_checkpoint_keys', 'compare_state_dicts',
           'load_weights', 'apply_checkpoint',
           'detector_class_names', 'label_name']
