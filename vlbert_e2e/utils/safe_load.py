"""The one way this project reads a checkpoint file: :func:`load_checkpoint_file`.

torch >= 2.6 loads with ``weights_only=True``; this module keeps it that way and makes it
usable (``install_safe_loading`` in ``utils/setup_env.py`` installs the MMEngine parts):

- every load (MMEngine's ``Runner.resume`` / ``load_from`` / ``load_checkpoint`` through
  the ``CheckpointLoader`` scheme that ``install_safe_loading`` registers, the inferencer,
  the converters, the benchmark, Hugging Face ``.bin`` files) goes through
  :func:`load_checkpoint_file`, which passes ``weights_only=True`` explicitly
  (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` cannot turn it off) and turns every failure
  into a one-line :class:`CheckpointError` naming the file and what is wrong with it;
  it never advises turning the safe load off;
- MMEngine 0.10.7 resume checkpoints hold numpy arrays/scalars and ``HistoryBuffer``
  objects in ``message_hub``: exactly those types are allow-listed (``SAFE_GLOBALS``),
  for :func:`load_checkpoint_file` always (``torch.serialization.safe_globals``), for
  every ``torch.load`` once ``install_safe_loading`` has run;
- ``HistoryBuffer`` is made to pickle its data only. Stock MMEngine pickles the buffer's
  statistics methods too, as ``getattr(HistoryBuffer, 'min')`` (protocol 2 writes a
  method as a call of ``builtins.getattr``). Files written that way, by an installation
  without this module, still load: ``builtins.getattr`` resolves, while unpickling
  only, to :func:`_history_buffer_getattr`, which returns those methods and refuses
  every other attribute of every other object.
"""
import os.path as osp
import pickle
import re
import warnings
from typing import Any

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from .checkpoint_files import ZIP_MAGIC, checkpoint_file_problem, is_safetensors


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and why."""


def _numpy_globals() -> list:
    from numpy._core.multiarray import _reconstruct, scalar
    dtypes = [type(np.dtype(t)) for t in (
        'float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8',
        'uint16', 'uint32', 'uint64', 'bool')]  # uint32: numpy's RNG state (RNGStateHook)
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtypes]


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``builtins.getattr`` as a checkpoint may call it: only a statistics method of
    ``HistoryBuffer`` (what stock MMEngine pickles); anything else is refused."""
    methods = set(HistoryBuffer._statistics_methods) | {'min', 'max', 'mean', 'current'}
    if obj is HistoryBuffer and name in methods:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f'its pickle asks for attribute {name!r} of {obj!r}, '
                                 'which a checkpoint has no reason to')


SAFE_GLOBALS = [HistoryBuffer, *_numpy_globals(), (_history_buffer_getattr, 'builtins.getattr')]


def history_buffer_getstate(self) -> dict:
    """``HistoryBuffer.__getstate__`` without its statistics methods (data only)."""
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    state.pop('_statistics_methods', None)
    return state


BOILERPLATE = ('Weights only load failed', 'Please file an issue', 'Check the documentation',
               'In PyTorch 2.6')


def _why_load_failed(e: Exception) -> str:
    """One line out of torch's error, without its advice to switch the safe load off."""
    text = str(e)
    refused = re.search(r'GLOBAL ([\w.]+)', text)
    if refused:
        return (f'refused: its pickle calls {refused.group(1)}; a checkpoint may hold '
                'tensors and plain data only')
    if isinstance(e, EOFError) or 'unexpected EOF' in text:
        return 'truncated: the data ends before the checkpoint does'
    lines = [ln.replace('WeightsUnpickler error:', '').strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(BOILERPLATE)
             and 'weights_only' not in ln]
    detail = (lines[0] if lines else type(e).__name__).split('. ')[0]
    if isinstance(e, pickle.UnpicklingError):
        return f'refused: {detail}'
    if isinstance(e, RuntimeError):
        return f'corrupt checkpoint: {detail}'
    return f'unreadable ({type(e).__name__}: {detail})'


def _load_safetensors(path: str, map_location: Any) -> dict:
    from safetensors import safe_open
    device = map_location if isinstance(map_location, str) else 'cpu'
    with safe_open(path, framework='pt', device=device) as f:
        return dict(meta=dict(f.metadata() or {}),
                    state_dict={k: f.get_tensor(k) for k in f.keys()})


def _allow_listed():
    """``torch.serialization.safe_globals`` with the ``SAFE_GLOBALS`` not allow-listed
    yet: torch's context removes on exit what it was given, so the globals that
    ``install_safe_loading`` registered for good are left out of it."""
    present = set(torch.serialization.get_safe_globals())
    return torch.serialization.safe_globals([g for g in SAFE_GLOBALS if g not in present])


def check_checkpoint_file(path: str) -> None:
    """Raise :class:`CheckpointError` when ``path`` would not load, as
    :func:`load_checkpoint_file` would, but cheaply: the tensors of a zip archive are
    memory-mapped, not read (tools call it before building a model)."""
    load_checkpoint_file(path, mmap=True)


def load_checkpoint_file(path: str, map_location: Any = 'cpu', mmap: bool = False) -> dict:
    """Read a checkpoint file safely (``torch.load(weights_only=True)``; a safetensors
    file is read as data).

    Args:
        path: a ``torch.save`` file (zip or legacy format) or a ``.safetensors`` file.
        map_location: as ``torch.load``'s.
        mmap: memory-map the tensors of a zip archive instead of reading them.

    Returns:
        The checkpoint dict (``{'meta', 'state_dict', ...}`` or a bare state dict).

    Raises:
        CheckpointError: one line naming ``path`` and what is wrong: not a checkpoint
            (text, HTML, Git LFS pointer, plain pickle, a zip of something else),
            truncated or corrupt, a pickle that calls a function outside the
            allow-list, or content that is not a dict of weights.
    """
    path = osp.expanduser(str(path))
    problem = checkpoint_file_problem(path)
    if problem is not None:
        raise CheckpointError(f'checkpoint {path}: {problem}')
    with open(path, 'rb') as f:
        head = f.read(16)
    try:
        if is_safetensors(head, osp.getsize(path)):
            return _load_safetensors(path, map_location)
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='Detected pickle protocol')
            with _allow_listed():
                ckpt = torch.load(path, map_location=map_location, weights_only=True,
                                  mmap=mmap and head.startswith(ZIP_MAGIC))
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as e:  # whatever torch raises on a bad file
        raise CheckpointError(f'checkpoint {path}: {_why_load_failed(e)}') from e
    if not isinstance(ckpt, dict):
        raise CheckpointError(f'checkpoint {path}: holds a {type(ckpt).__name__}, not a dict '
                              'of weights')
    if 'state_dict' in ckpt and not isinstance(ckpt['state_dict'], dict):
        raise CheckpointError(f'checkpoint {path}: its state_dict is a '
                              f'{type(ckpt["state_dict"]).__name__}, not a dict of weights')
    return ckpt


def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """MMEngine's local ``CheckpointLoader`` scheme: :func:`load_checkpoint_file`."""
    return load_checkpoint_file(filename, map_location)

