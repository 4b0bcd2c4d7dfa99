"""Make MMEngine's own checkpoints load with ``torch.load(weights_only=True)``.

torch >= 2.6 loads with ``weights_only=True``; MMEngine 0.10.7 resume checkpoints hold
numpy arrays/scalars and ``HistoryBuffer`` objects in ``message_hub``. This module, the
one place that deals with it (imported by ``vlbert_e2e/__init__.py``):

- allow-lists exactly those types (``SAFE_GLOBALS``); ``weights_only`` is never
  switched off;
- makes ``HistoryBuffer`` pickle its data only. MMEngine pickles its statistics
  *methods* too, which needs ``builtins.getattr`` at load time, a global we refuse to
  allow; those methods are class-level and restored by ``HistoryBuffer.__setstate__``
  anyway, so nothing is lost.
"""
import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


def _numpy_globals() -> list:
    from numpy._core.multiarray import _reconstruct, scalar
    dtypes = [type(np.dtype(t)) for t in (
        'float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8',
        'bool')]
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtypes]


SAFE_GLOBALS = [HistoryBuffer, *_numpy_globals()]


def _history_buffer_getstate(self) -> dict:
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    state.pop('_statistics_methods', None)
    return state


def register_safe_globals() -> None:
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
    HistoryBuffer.__getstate__ = _history_buffer_getstate
