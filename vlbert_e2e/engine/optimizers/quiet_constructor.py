"""MMEngine's optimizer-wrapper constructor with one summary line instead of its
``paramwise_options -- <param>:<key>=<value>`` line per parameter and option (hundreds of
lines at every start of training with ``custom_keys``), and tied weights named in it
instead of in one warning each."""
import logging
import re
from collections import Counter

from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor

from vlbert_e2e.registry import OPTIM_WRAPPER_CONSTRUCTORS
from vlbert_e2e.utils.log_filters import held_back_logs

# a tied weight (an MLM decoder sharing the word embeddings) with bypass_duplicate
DUPLICATE = r'^(\S+) is duplicate\. It is skipped since bypass_duplicate=True$'


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class QuietOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """As :class:`mmengine.optim.DefaultOptimWrapperConstructor`; its INFO lines are held
    back while it runs (warnings still pass, but for its warning about each tied weight
    skipped with ``bypass_duplicate``) and one line sums the parameter groups up: how
    many parameter tensors train at each learning rate, and the tied ones."""

    def __call__(self, model):
        """Build the optimizer wrapper of ``model`` as the parent does, logging one
        summary line (parameter tensors per learning rate) instead of one per tensor."""
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(max(level, logging.WARNING))
        try:
            with held_back_logs(DUPLICATE) as tied:
                wrapper = super().__call__(model)
        finally:
            logger.setLevel(level)
        groups = wrapper.optimizer.param_groups
        by_lr = Counter(g['lr'] for g in groups for _ in g['params'])
        logger.info(f'{type(wrapper.optimizer).__name__}: ' + ', '.join(
            f'{n} parameter tensors at lr {lr:.3g}' for lr, n in sorted(by_lr.items())) + (
            '; tied to a tensor above (trained once): ' + ', '.join(
                re.match(DUPLICATE, m).group(1) for m in tied) if tied else ''))
        return wrapper
