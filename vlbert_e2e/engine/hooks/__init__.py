from .atomic_checkpoint_hook import AtomicCheckpointHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .rng_state_hook import RNGStateHook
from .vl_visualization_hook import VLVisualizationHook

__all__ = ['AtomicCheckpointHook', 'NonFiniteLossError', 'NonFiniteLossHook', 'RNGStateHook',
           'VLVisualizationHook']
