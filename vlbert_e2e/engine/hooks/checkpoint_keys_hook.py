"""Refuse a checkpoint that does not fit the model before its weights are loaded."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from vlbert_e2e.registry import HOOKS
from vlbert_e2e.utils.state_dict_match import MODULE_PREFIX, check_checkpoint_keys, state_dict_of


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
        own = model.state_dict()
        if check_checkpoint_keys(own, state_dict_of(checkpoint), path,
                                 partial=self.partial_load, hint=self.hint):
            complete_partial_state_dict(own, state_dict_of(checkpoint))


def complete_partial_state_dict(own: dict, loaded: dict) -> None:
    """Make ``loaded`` (edited in place) what a partial load puts into the model: keys
    the model lacks removed, keys it misses or holds in another shape set to the model's
    own values. The lines above have logged each group; MMEngine's loader would print the
    whole key lists again (its "do not match exactly" message) for the same outcome."""
    plain = {MODULE_PREFIX.sub('', k): k for k in loaded}
    for key, name in plain.items():
        if key not in own:
            del loaded[name]
    for key, value in own.items():
        name = plain.get(key, key)
        if getattr(loaded.get(name), 'shape', None) != value.shape:
            loaded[name] = value
