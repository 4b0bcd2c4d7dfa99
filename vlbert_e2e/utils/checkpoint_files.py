"""Checkpoint files that are either complete or absent.

MMEngine writes a checkpoint with ``open(path, 'wb')`` and points ``last_checkpoint`` at
it with another in-place write, so a process killed while saving leaves a truncated file
that ``--resume`` then tries to load. Written here (MMEngine has no atomic writer):

- :func:`atomic_write` — temporary file in the same folder, ``fsync``, ``os.replace``;
- ``AtomicLocalBackend`` — MMEngine's local file backend whose ``put`` uses it, registered
  as ``backend='atomic_local'`` (what :class:`AtomicCheckpointHook` saves through);
- :func:`find_last_complete_checkpoint` — what ``tools/train.py --resume`` resumes from;
- :func:`checkpoint_file_problem` — what is wrong with a file given as a checkpoint,
  found without unpickling it (``safe_load.load_checkpoint_file`` runs it first).
"""
import glob
import os
import os.path as osp
import re
import tempfile
import zipfile
import zlib
from typing import Optional, Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log


def atomic_write(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` to ``path`` so that a reader (or a kill) sees the old file or the
    whole new one, never a part.

    Args:
        data: the content; a ``str`` is written UTF-8 encoded.
        path: the file (``~`` expanded); missing parent folders are created. The new
            file gets the permissions ``open()`` would give it (``0o666 & ~umask``).

    Raises:
        OSError: the folder cannot be created or written; the temporary file is
            removed and ``path`` is left as it was.
    """
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
        """Write the bytes ``obj`` to ``filepath`` with :func:`atomic_write`."""
        atomic_write(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        """Write ``obj`` encoded with ``encoding`` to ``filepath`` with
        :func:`atomic_write`."""
        atomic_write(obj.encode(encoding), str(filepath))


ZIP_MAGIC = b'PK\x03\x04'
# torch.save's legacy (pre-1.6, non-zip) format opens with this number, pickled as LONG1
LEGACY_TORCH_MAGIC = (0x1950a86a20f9469cfc6c).to_bytes(10, 'little')


def is_safetensors(head: bytes, size: int) -> bool:
    """A safetensors file: an 8-byte little-endian header length, then a JSON header."""
    n = int.from_bytes(head[:8], 'little') if len(head) >= 8 else 0
    return 0 < n <= size - 8 and head[8:9] == b'{'


def _zip_problem(path: str, size: int) -> Optional[str]:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if not any(n.count('/') == 1 and n.endswith('/data.pkl') for n in names):
                return 'a zip archive without data.pkl, not a PyTorch checkpoint'
            bad = z.testzip()  # reads every record and checks its CRC
    except zipfile.BadZipFile:
        return (f'truncated archive: {size:,} bytes and no zip directory at its end '
                '(an interrupted download or save?)')
    except (OSError, EOFError, zlib.error) as e:
        return f'corrupt archive ({e})'
    return f'corrupt archive: record {bad} fails its CRC check' if bad else None


def _text_problem(head: bytes) -> Optional[str]:
    """What a text file given as a checkpoint is, or ``None`` if ``head`` is binary."""
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError as e:  # binary, or a character cut by the read
        if e.start < len(head) - 3:
            return None
        text = head[:e.start].decode('utf-8')
    if '\x00' in text:
        return None
    if text.startswith('version https://git-lfs'):
        return 'a Git LFS pointer, not the checkpoint itself (fetch it with `git lfs pull`)'
    if text.lstrip().lower().startswith(('<!doctype html', '<html')):
        return 'an HTML page, not a PyTorch checkpoint (a failed download?)'
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), '')[:40]
    return f'not a PyTorch checkpoint: a text file beginning {first!r}'


def checkpoint_file_problem(path: str) -> Optional[str]:
    """What makes ``path`` unusable as a checkpoint file, found without unpickling
    anything; ``None`` when it is a whole ``torch.save`` archive (zip, CRCs checked),
    a legacy ``torch.save`` file or a safetensors file.

    Written here: torch reports these cases as an unpickling error that advises
    turning ``weights_only`` off, or as an internal zip-reader error.
    """
    if not osp.exists(path):
        return 'no such file'
    if osp.isdir(path):
        return 'a folder, not a checkpoint file'
    size = osp.getsize(path)
    if size == 0:
        return 'an empty file (0 bytes), not a PyTorch checkpoint'
    with open(path, 'rb') as f:
        head = f.read(512)
    if head.startswith(ZIP_MAGIC):
        return _zip_problem(path, size)
    if head[:1] == b'\x80':  # a pickle: torch's legacy format or a plain pickle
        return None if LEGACY_TORCH_MAGIC in head[:32] else (
            'a plain pickle, not a PyTorch checkpoint (torch.save writes a zip archive)')
    if is_safetensors(head, size):
        return None
    return _text_problem(head) or (
        f'not a PyTorch checkpoint (unknown format, first bytes {head[:8]!r})')


def is_complete_checkpoint(path: str) -> bool:
    """A ``torch.save`` file is a zip archive whose directory sits at its end: a file
    cut short by a kill fails this check without being unpickled
    (:func:`checkpoint_file_problem`). A folder (FSDP 'local' / DeepSpeed checkpoints)
    is complete when it holds files, all complete."""
    if osp.isdir(path):
        files = glob.glob(osp.join(path, '*.pt*'))
        return bool(files) and all(is_complete_checkpoint(f) for f in files)
    return checkpoint_file_problem(path) is None


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
        why = 'incomplete' if osp.isdir(path) else checkpoint_file_problem(path)
        print_log(f'skipping {path}: {why}', logger='current', level=30)
    return None
