"""MMEngine's Runner with a quiet start (issue 17: a console a person can follow) and one
more default hook (the datasets' attribute names checked against the model)."""
import logging
import os.path as osp
import sys

import mmengine
import torch
from mmengine.runner import Runner

from vlbert_e2e.registry import RUNNERS

from .hooks.metainfo_check_hook import MetainfoCheckHook


class _Hold(logging.Filter):
    """Stops the records whose message starts with ``prefix`` (every record: ``''``),
    keeping their messages."""

    def __init__(self, prefix: str = '') -> None:
        super().__init__()
        self.prefix = prefix
        self.messages = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(self.prefix):
            self.messages.append(message)
            return False
        return True


@RUNNERS.register_module()
class VLRunner(Runner):
    """:class:`mmengine.runner.Runner` whose start-up report (the system and runtime
    environment, ~40 lines, and the whole config, hundreds) goes to
    ``<work_dir>/<timestamp>/environment.txt`` instead of the console and the log; the
    console and the log get one line naming the versions and that file. MMEngine still
    dumps the config to ``<work_dir>/<config name>.py``. Everything else is MMEngine's.
    ``tools/train.py`` and ``tools/test.py`` use it unless a config sets ``runner_type``
    (e.g. ``FlexibleRunner`` for FSDP). The hook-order table MMEngine logs next (~60
    lines) is appended to that file too, and the console gets one line.

    Its default hooks are MMEngine's plus ``metainfo_check``
    (:class:`~vlbert_e2e.engine.hooks.MetainfoCheckHook`: the datasets' attribute
    names against the model's, before the first step); a config drops it
    with ``default_hooks = dict(metainfo_check=None)``, as any of MMEngine's.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.logger.removeFilter(self._hooks_table)
        if self._hooks_table.messages and self.rank == 0:
            with open(self._report_path, 'a', encoding='utf-8') as f:
                f.write('\n' + '\n'.join(self._hooks_table.messages) + '\n')
        self.logger.info(f'{len(self.hooks)} hooks; the order they run in: {self._report_path}')

    @property
    def _report_path(self) -> str:
        return osp.join(self._log_dir, 'environment.txt')

    def build_logger(self, *args, **kwargs):
        """MMEngine's logger, holding back the hook-order table until ``__init__`` ends."""
        logger = super().build_logger(*args, **kwargs)
        self._hooks_table = _Hold('Hooks will be executed in the following order')
        logger.addFilter(self._hooks_table)
        return logger

    def _log_env(self, env_cfg: dict) -> None:
        """Write MMEngine's environment and config report to ``environment.txt`` in
        the run's log folder (rank 0) and log one summary line."""
        hold = _Hold()
        self.logger.addFilter(hold)
        try:
            super()._log_env(env_cfg)
        finally:
            self.logger.removeFilter(hold)
        path = self._report_path
        if self.rank == 0:
            mmengine.mkdir_or_exist(self._log_dir)
            with open(path, 'w', encoding='utf-8') as f:
                f.write('\n\n'.join(hold.messages) + '\n')
        self.logger.info(
            f'Python {sys.version.split()[0]}, PyTorch {torch.__version__}, MMEngine '
            f'{mmengine.__version__}, CUDA {"yes" if torch.cuda.is_available() else "no"}, '
            f'seed {self.seed}; environment and config: {path}')

    def register_default_hooks(self, hooks=None) -> None:
        """MMEngine's default hooks, ``metainfo_check`` among them; ``hooks`` (the
        config's ``default_hooks``) are merged over them, ``None`` dropping one."""
        hooks = dict(dict(metainfo_check=dict(type=MetainfoCheckHook)), **(hooks or {}))
        if hooks['metainfo_check'] is None:  # MMEngine accepts None for its own names only
            del hooks['metainfo_check']
        super().register_default_hooks(hooks)
