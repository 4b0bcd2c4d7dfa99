"""Make MMEngine's own checkpoints load with ``torch.load(weights_only=True)``.

torch >= 2.6 loads with ``weights_only=True``; MMEngine 0.10.7 resume checkpoints hold
numpy arrays/scalars and ``HistoryBuffer`` objects in ``message_hub``. This module, the
one place that deals with it (imported by ``vlbert_e2e/__init__.py``):

- allow-lists exactly those types (``SAFE_GLOBALS``); ``weights_only`` is never
  switched off;
- makes MMEngine's local checkpoint loader (``Runner.resume``, ``load_checkpoint``,
  ``load_from``) pass ``weights_only=True`` explicitly instead of relying on torch's
  default (which ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` turns off);
- makes ``HistoryBuffer`` pickle its data only. MMEngine pickles its statistics
  *methods* too, which needs ``builtins.getattr`` at load time, a global we refuse to
  allow; those methods are class-level and restored by ``HistoryBuffer.__setstate__``
  anyway, so nothing is lost.
"""
import os.path as osp

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


def _numpy_globals() -> list:
    from numpy._core.multiarray import _reconstruct, scalar
    dtypes = [type(np.dtype(t)) for t in (
        'float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8',
        'uint16', 'uint32', 'uint64', 'bool')]  # uint32: numpy's RNG state (RNGStateHook)
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtypes]


SAFE_GLOBALS = [HistoryBuffer, *_numpy_globals()]


def _history_buffer_getstate(self) -> dict:
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    state.pop('_statistics_methods', None)
    return state


def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """MMEngine's ``load_from_local`` with ``weights_only=True`` spelled out: a pickle
    that names any global outside torch's and ``SAFE_GLOBALS`` raises
    ``pickle.UnpicklingError`` before anything runs."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=True)


def register_safe_globals() -> None:
    """Allow-list ``SAFE_GLOBALS`` and route MMEngine's local loads through
    :func:`load_local_checkpoint`."""
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
