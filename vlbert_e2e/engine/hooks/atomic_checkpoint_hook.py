"""MMEngine's CheckpointHook whose files are complete or absent after a kill."""
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from vlbert_e2e.registry import HOOKS
from vlbert_e2e.utils.checkpoint_files import atomic_write
from vlbert_e2e.utils.log_filters import held_back_logs

# MMEngine's CheckpointHook.before_train and save_checkpoint build a FileClient even when
# no file_client_args are given ("to avoid breaking backward compatibility", unused
# then), and that logs two deprecation notices each time: nothing a config can change.
FILE_CLIENT_NOTICES = r'^"(FileClient" will be deprecated|HardDiskBackend" is the alias)'


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) with three changes for crash safety:

    - checkpoints go through the ``atomic_local`` file backend (temporary file +
      ``os.replace``) unless ``backend_args`` names another backend;
    - ``last_checkpoint`` is replaced atomically, and only after the file it names is
      complete;
    - with ``max_keep_ckpts``, the oldest checkpoint is removed *after* the new one is
      saved (MMEngine removes it before, so ``max_keep_ckpts=1`` plus a kill while
      saving left no checkpoint at all).

    ``_save_checkpoint_with_step`` is rewritten because those steps sit inside it.
    Without ``file_client_args``, MMEngine's notices that its unused FileClient is
    deprecated are not logged.
    """

    def __init__(self, *args, backend_args: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, backend_args=backend_args or dict(backend='atomic_local'),
                         **kwargs)

    def before_train(self, runner) -> None:
        """As ``CheckpointHook.before_train``, without the FileClient notices."""
        with held_back_logs(FILE_CLIENT_NOTICES, self.file_client_args is None):
            super().before_train(runner)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        stale = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        with held_back_logs(FILE_CLIENT_NOTICES, self.file_client_args is None):
            runner.save_checkpoint(
                self.out_dir, ckpt_filename, self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler, meta=meta,
                by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'))
        if stale is not None:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(stale))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # DeepSpeed/FSDP save folders
                self.file_backend.rmtree(path)
