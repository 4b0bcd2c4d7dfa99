"""Checkpoint files that are either complete or absent.

MMEngine writes a checkpoint with ``open(path, 'wb')`` and points ``last_checkpoint`` at
it with another in-place write, so a process killed while saving leaves a truncated file
that ``--resume`` then tries to load. Written here (MMEngine has no atomic writer):

- :func:`atomic_write` — temporary file in the same folder, ``fsync``, ``os.replace``;
- ``AtomicLocalBackend`` — MMEngine's local file backend whose ``put`` uses it, registered
  as ``backend='atomic_local'`` (what :class:`AtomicCheckpointHook` saves through);
- :func:`find_last_complete_checkpoint` — what ``tools/train.py --resume`` resumes from.
"""
import glob
import os
import os.path as osp
import re
import tempfile
import zipfile
from typing import Optional, Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log


def atomic_write(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` to ``path`` so that a reader (or a kill) sees the old file or the
    whole new one, never a part."""
    path = osp.abspath(osp.expanduser(str(path)))
    os.makedirs(osp.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), prefix=f'.{osp.basename(path)}.',
                               suffix='.tmp')
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; keep open()'s permissions
        with os.fdopen(fd, 'wb') as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """MMEngine's ``LocalBackend`` with atomic ``put``/``put_text``."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), str(filepath))


def is_complete_checkpoint(path: str) -> bool:
    """A ``torch.save`` file is a zip archive whose directory sits at its end: a file
    cut short by a kill fails this check without being unpickled. A folder (FSDP
    'local' / DeepSpeed checkpoints) is complete when it holds files, all complete."""
    if osp.isdir(path):
        files = glob.glob(osp.join(path, '*.pt*'))
        return bool(files) and all(is_complete_checkpoint(f) for f in files)
    if not osp.isfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return len(z.namelist()) > 0
    except (zipfile.BadZipFile, OSError):
        return False


def _step(path: str) -> int:
    m = re.search(r'(\d+)\.pth$', osp.basename(path))
    return int(m.group(1)) if m else -1


def find_last_complete_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``last_checkpoint`` names when it is complete, else the complete
    ``*.pth`` in ``work_dir`` with the highest step number; ``None`` when there is none.
    Every file passed over is logged with the reason."""
    candidates = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named:
            candidates.append(named)
    candidates += sorted(glob.glob(osp.join(work_dir, '*.pth')), key=_step, reverse=True)
    for path in candidates:
        if is_complete_checkpoint(path):
            return path
        print_log(f'skipping {path}: missing or incomplete checkpoint file', logger='current',
                  level=30)
    return None
