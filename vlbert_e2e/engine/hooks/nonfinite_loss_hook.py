"""Stop training at the first NaN/inf loss, before the poisoned state is saved."""
import math

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook

from vlbert_e2e.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or inf; the message names the term and the iteration."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Checks every ``loss*`` value after each training iteration and raises
    :class:`NonFiniteLossError` naming the non-finite terms and the iteration.

    mmdet's ``CheckInvalidLossHook`` asserts on the total loss only, every ``interval``
    iterations, with a message that names neither; hence this hook. Its priority
    (``LOW``) runs it after the logger and before ``CheckpointHook`` (``VERY_LOW``), so
    the raise happens before that iteration could be saved: the last checkpoint on disk
    is the last good one. Under DDP the values are summed over ranks first, so every
    rank stops together instead of hanging in the next collective.
    """

    priority = 'LOW'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Check the ``loss*`` entries of ``outputs`` (the parsed log vars of the
        train step: floats or 0-d tensors); nothing to do without outputs.

        Raises:
            NonFiniteLossError: a value is NaN or inf (after the sum over ranks),
                naming each such key, the 1-based iteration and the last checkpoint.
        """
        if not outputs:
            return
        keys = sorted(k for k in outputs if k.startswith('loss'))
        values = torch.tensor([float(torch.as_tensor(outputs[k]).detach()) for k in keys],
                              dtype=torch.float64)
        if get_world_size() > 1:
            all_reduce(values)
        bad = [(k, v) for k, v in zip(keys, values.tolist()) if not math.isfinite(v)]
        if not bad:
            return
        terms = [k for k, _ in bad if k != 'loss'] or ['loss']
        last = runner.message_hub.get_info('last_ckpt')
        raise NonFiniteLossError(
            f'non-finite loss at iteration {runner.iter + 1}: '
            + ', '.join(f'{k}={v}' for k, v in bad)
            + f' (term: {", ".join(terms)}). Training stopped before saving this state; '
            + (f'last good checkpoint: {last}' if last else 'no checkpoint was saved yet'))
