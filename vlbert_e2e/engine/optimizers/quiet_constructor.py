"""MMEngine's optimizer-wrapper constructor with one summary line instead of its
``paramwise_options -- <param>:<key>=<value>`` line per parameter and option (hundreds of
lines at every start of training with ``custom_keys``)."""
import logging
from collections import Counter

from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor

from vlbert_e2e.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class QuietOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """As :class:`mmengine.optim.DefaultOptimWrapperConstructor`; its INFO lines are held
    back while it runs (warnings still pass) and one line sums the parameter groups up:
    how many parameter tensors train at each learning rate."""

    def __call__(self, model):
        """Build the optimizer wrapper of ``model`` as the parent does, logging one
        summary line (parameter tensors per learning rate) instead of one per tensor."""
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(max(level, logging.WARNING))
        try:
            wrapper = super().__call__(model)
        finally:
            logger.setLevel(level)
        groups = wrapper.optimizer.param_groups
        by_lr = Counter(g['lr'] for g in groups for _ in g['params'])
        logger.info(f'{type(wrapper.optimizer).__name__}: ' + ', '.join(
            f'{n} parameter tensors at lr {lr:.3g}' for lr, n in sorted(by_lr.items())))
        return wrapper
