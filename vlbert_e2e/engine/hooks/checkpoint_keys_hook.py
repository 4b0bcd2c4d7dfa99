"""Refuse a checkpoint that does not fit the model before its weights are loaded."""
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from vlbert_e2e.registry import HOOKS
from vlbert_e2e.utils.config_checks import ConfigError
from vlbert_e2e.utils.state_dict_match import (
    MODULE_PREFIX,
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
        keep_initial: key prefixes (``'region_encoder.'``) whose weights the model keeps
            from its own initialisation instead of taking them from the checkpoint (one
            log line): a fine-tuning config that starts some modules afresh. Only with
            ``partial_load``; not applied when the runner resumes, which restores every
            weight (``tools/train.py`` drops it then).

    Raises:
        ConfigError: ``keep_initial`` without ``partial_load``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, partial_load: bool = False, hint: str = '',
                 keep_initial: Sequence[str] = ()) -> None:
        if keep_initial and not partial_load:
            raise ConfigError('CheckpointKeysHook: keep_initial needs partial_load (a '
                              'strict load takes every weight from the checkpoint)')
        self.partial_load, self.hint = partial_load, hint
        self.keep_initial = tuple(keep_initial)

    @staticmethod
    def _own_state_dict(runner) -> dict:
        """The model's state dict, unwrapped from DDP. Under FSDP it is the root
        wrapper's (full, gathered; the keys without FSDP's prefixes): the inner model's
        own ``state_dict()`` before the first forward would initialise each FSDP unit
        as a root of its own, and the load that follows fails."""
        from torch.distributed.fsdp import FullyShardedDataParallel
        if isinstance(runner.model, FullyShardedDataParallel):
            return runner.model.state_dict()
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return model.state_dict()

    def before_run(self, runner) -> None:
        """Check the ``keep_initial`` prefixes against the model before anything is
        loaded (or trained: a typo must not pass unnoticed when there is no checkpoint).

        Raises:
            ConfigError: a prefix that no weight of the model has.
        """
        if self.keep_initial:  # only then: a full state dict costs a gather under FSDP
            self._check_prefixes(self._own_state_dict(runner))

    def _check_prefixes(self, own) -> None:
        unknown = [p for p in self.keep_initial if not any(k.startswith(p) for k in own)]
        if unknown:
            raise ConfigError(f'default_hooks.checkpoint_keys.keep_initial: {unknown} '
                              'name no weight of the model')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Check ``checkpoint`` (its ``state_dict``, or itself when bare) against the
        runner's model (unwrapped from DDP/FSDP wrappers).

        Raises:
            CheckpointError: a missing, unexpected or reshaped key, unless
                ``partial_load``.
            ConfigError: a ``keep_initial`` prefix that no key of the model has.
        """
        path = getattr(runner, '_load_from', None) or 'being loaded'
        own, loaded = self._own_state_dict(runner), state_dict_of(checkpoint)
        kept = self._keep_initial(runner, own, loaded, path)
        compared = {k: v for k, v in own.items() if k not in kept}
        if check_checkpoint_keys(compared, loaded, path, partial=self.partial_load,
                                 hint=self.hint) or kept:
            complete_partial_state_dict(own, loaded)  # MMEngine then prints no key lists

    def _keep_initial(self, runner, own: dict, loaded: dict, path: str) -> set:
        """Remove the ``keep_initial`` keys from ``loaded`` (in place; logged); returns
        the model's keys under those prefixes."""
        if not self.keep_initial or getattr(runner, '_resume', False):
            return set()  # a resumed run restores every weight it saved
        self._check_prefixes(own)
        dropped = [k for k in loaded if MODULE_PREFIX.sub('', k).startswith(self.keep_initial)]
        for k in dropped:
            del loaded[k]
        print_log(f'partial load of {path}: {", ".join(p + "*" for p in self.keep_initial)} '
                  f'({len(dropped)} keys) not loaded: kept as initialised (keep_initial)',
                  logger='current', level=30)
        return {k for k in own if k.startswith(self.keep_initial)}
