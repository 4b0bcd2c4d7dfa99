"""Save and restore the random number generators so a resumed run repeats exactly."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from vlbert_e2e.registry import HOOKS


def _rng_state() -> dict:
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreAfterSkip:
    """Wraps the train loop's data iterator: after the ``skip`` batches MMEngine replays
    on resume, sets the saved RNG state, then steps aside."""

    def __init__(self, iterator, skip: int, state: dict) -> None:
        self.iterator, self.skip, self.state = iterator, skip, state

    def __iter__(self):
        return self

    def __next__(self):
        if self.skip == 0 and self.state is not None:
            _set_rng_state(self.state)
            self.state = None
        self.skip -= 1
        return next(self.iterator)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Stores Python's, numpy's and torch's RNG states in every checkpoint (key
    ``rng_state``) and puts them back when training resumes from it.

    MMEngine resumes weights, optimizer, schedulers and the data order, but not the
    generators behind dropout and random masking/flipping; and it replays the first
    ``k`` batches through the pipeline (drawing random numbers) to skip them. So the
    state is restored after that replay, right before batch ``k + 1`` is read.
    Single-process runs resume exactly; under DDP the checkpoint holds rank 0's state
    (only rank 0 saves), which is restored on rank 0 only.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Put this process's generator states into ``checkpoint['rng_state']``
        (``python``, ``numpy``, ``torch`` and, once CUDA is initialised, ``cuda``)."""
        checkpoint['rng_state'] = _rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep ``checkpoint['rng_state']`` (on rank 0) for :meth:`before_train`."""
        if 'rng_state' in checkpoint and runner.rank == 0:
            self._pending = checkpoint['rng_state']

    def before_train(self, runner) -> None:
        """On a resumed run (iteration or epoch above 0), restore the kept state:
        right away for an epoch loop, after the replayed batches for an iteration
        loop. A state loaded for a run that starts at 0 (``load_from``) is dropped."""
        if self._pending is None or (runner.iter == 0 and runner.epoch == 0):
            self._pending = None  # nothing to resume (e.g. ``load_from`` fine-tuning)
            return
        loop = runner.train_loop
        if not hasattr(loop, 'dataloader_iterator'):  # epoch loops: restore now
            _set_rng_state(self._pending)
        else:
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop.dataloader_iterator, loop.iter, self._pending)
        print_log('restored the random number generators saved in the checkpoint',
                  logger='current')
        self._pending = None
