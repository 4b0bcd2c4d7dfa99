"""Allow-list the globals MMEngine's own checkpoints need for ``weights_only=True``.

torch >= 2.6 loads with ``weights_only=True``; MMEngine 0.10.7 resume checkpoints hold
numpy arrays/scalars and ``HistoryBuffer`` objects in ``message_hub``. We allow exactly
those types here (imported by ``vlbert_e2e/__init__.py``); ``weights_only`` is never
switched off.
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


def register_safe_globals() -> None:
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
