from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_keys_hook import CheckpointKeysHook
from .metainfo_check_hook import MetainfoCheckHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .rng_state_hook import RNGStateHook
from .safe_loading_hook import SafeLoadingHook
from .vl_visualization_hook import VLVisualizationHook

__all__ = ['AtomicCheckpointHook', 'CheckpointKeysHook', 'MetainfoCheckHook',
           'NonFiniteLossError', 'NonFiniteLossHook', 'RNGStateHook', 'SafeLoadingHook',
           'VLVisualizationHook']
