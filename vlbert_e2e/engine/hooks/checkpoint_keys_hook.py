"""Refuse a checkpoint that does not fit the model before its weights are loaded."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from vlbert_e2e.registry import HOOKS
from vlbert_e2e.utils.state_dict_match import (
    check_checkpoint_keys,
    complete_partial_state_dict,
    state_dict_of,
)


@HOOKS.register_module()
class CheckpointKeysHook(Hook):
    """Compare every checkpoint the runner loads (``load_from``, ``resume``,
    ``tools/test.py``) with the model, through :func:`check_checkpoint_keys`.

    MMEngine loads with ``strict=False`` and only warns, so ``tools/test.py`` would score
    another task's checkpoint with randomly initialised heads. Here a mismatch raises
    :class:`~vlbert_e2e.utils.CheckpointError` naming the missing and unexpected key
    groups, unless ``partial_load`` (``tools/test.py --partial-load``; ``tools/train.py``
    when fine-tuning from ``load_from``, which legitimately drops and adds heads), when
    each group is logged in one line instead.

    Args:
        partial_load: log a mismatch instead of refusing the checkpoint.
        hint: appended to the refusal, e.g. the option that allows a partial load.
    """

    priority = 'VERY_HIGH'

    def __init__(self, partial_load: bool = False, hint: str = '') -> None:
        self.partial_load, self.hint = partial_load, hint

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Check ``checkpoint`` (its ``state_dict``, or itself when bare) against the
        runner's model (unwrapped from DDP/FSDP wrappers).

        Raises:
            CheckpointError: a missing, unexpected or reshaped key, unless
                ``partial_load``.
        """
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        path = getattr(runner, '_load_from', None) or 'being loaded'
        own, loaded = model.state_dict(), state_dict_of(checkpoint)
        if check_checkpoint_keys(own, loaded, path, partial=self.partial_load, hint=self.hint):
            complete_partial_state_dict(own, loaded)  # MMEngine then prints no key lists

