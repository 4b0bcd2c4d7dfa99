"""Readers of precomputed region features: bottom-up-attention TSV files and per-image
``.npz`` files.

Written by hand: neither MMEngine, mmdet nor transformers reads these formats. The TSV is
the one ``tools/generate_tsv.py`` of peteanderson80/bottom-up-attention writes (and the
original VL-BERT's ``-prec`` data came from): ``csv.DictWriter(delimiter='\\t')`` rows
``image_id, image_w, image_h, num_boxes, boxes, features``, one image a line, ``boxes``
(``num_boxes x 4``, x1 y1 x2 y2 in original-image pixels) and ``features``
(``num_boxes x D``) base64-encoded float32. Such files hold tens of GB, so a
:class:`BottomUpTSV` scans the file once in fixed-size blocks to index the byte range of
every image id (the index is cached beside the file), then seeks to the one line asked
for: the file is never loaded whole.
"""
import base64
import binascii
import os
import zipfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import MMLogger

from .loading import BadSampleError

FIELDNAMES = ('image_id', 'image_w', 'image_h', 'num_boxes', 'boxes', 'features')
INDEX_VERSION = 1
ID_PREFIX = 256  # bytes of a line kept by the scan to read its image id


@dataclass
class RegionRecord:
    """The regions of one image as stored (nothing clipped or resized).

    Attributes:
        boxes: ``(K, 4)`` float32 ``x1, y1, x2, y2`` in original-image pixels.
        features: ``(K, D)`` float32 (``(0, 0)`` when ``K == 0`` and D is unknown).
        cls_prob: ``(K, C)`` float32 class distribution of each box, or ``None``.
        image_wh: ``(width, height)`` of the original image, or ``None``.
        where: the file (and line) it came from, for messages.
    """
    boxes: np.ndarray
    features: np.ndarray
    cls_prob: Optional[np.ndarray]
    image_wh: Optional[Tuple[int, int]]
    where: str


def _array(raw, name: str, rows: int, cols: Optional[int], where: str) -> np.ndarray:
    """float32 ``(rows, cols)`` from a TSV buffer (``bytes``) or an ``.npz`` array;
    ``cols=None``: any width (from the buffer: what divides evenly)."""
    if not isinstance(raw, bytes):  # an .npz array: its shape must be right
        a = np.asarray(raw)
        if a.ndim == 2 and a.shape[0] == rows and cols in (None, a.shape[1]):
            return a.astype(np.float32, copy=False)
        if rows == 0 and a.size == 0:
            return np.zeros((0, cols or 0), np.float32)
        raise BadSampleError(f'{where}: {name} has shape {list(a.shape)}, expected '
                             f'({rows}, {cols or "C"})')
    if len(raw) % 4:
        raise BadSampleError(f'{where}: {name} holds {len(raw)} bytes, not whole float32 '
                             'values (truncated or malformed record)')
    a = np.frombuffer(raw, dtype=np.float32)
    n = a.size
    if rows == 0:
        if n:
            raise BadSampleError(f'{where}: {name} holds {n} values for 0 boxes')
        return np.zeros((0, cols or 0), np.float32)
    if n == 0 or n % rows or (cols is not None and n != rows * cols):
        want = f'{rows} x {cols}' if cols else f'{rows} x D'
        raise BadSampleError(f'{where}: {name} holds {n} float32 values, not {want} '
                             '(truncated or malformed record)')
    return a.reshape(rows, -1)


def _widths(feature_dim: Optional[int]) -> Dict[str, Optional[int]]:
    """Columns of each array field (``None``: any)."""
    return {'boxes': 4, 'features': feature_dim, 'cls_prob': None}


class BottomUpTSV:
    """Random access by image id to a bottom-up-attention TSV file.

    Args:
        path: the TSV file.
        fields: its columns, in order (default :data:`FIELDNAMES`); an extra
            ``cls_prob`` column (base64 float32, ``num_boxes x C``) is read when named.
        index_file: where to cache the index (``None``: ``<path>.index.npz``; ``False``:
            keep it in memory only). A cache whose recorded size / modification time
            differ from the file's is rebuilt.
        block_size: bytes read at a time by the indexing scan.
        feature_dim: D, when known: a record whose features are not ``num_boxes x D``
            is reported as truncated or malformed.

    Attributes:
        bytes_read: bytes read from ``path`` so far (the scan and the records).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``fields`` lacks one of :data:`FIELDNAMES`.
    """

    def __init__(self, path: str, fields: Sequence[str] = FIELDNAMES,
                 index_file=None, block_size: int = 1 << 20,
                 feature_dim: Optional[int] = None) -> None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f'region feature file not found: {path}')
        missing = [f for f in FIELDNAMES if f not in fields]
        if missing:
            raise ValueError(f'{path}: fields {list(fields)} lack {missing}')
        self.path, self.fields = path, tuple(fields)
        self.index_file = path + '.index.npz' if index_file is None else index_file
        self.block_size, self.feature_dim = block_size, feature_dim
        self.bytes_read = 0
        self._fh, self._pid = None, None
        self.ids, self.offsets, self.lengths, self.lines = self._load_or_build_index()

    # ------------------------------------------------------------------ index
    def _stamp(self) -> np.ndarray:
        st = os.stat(self.path)
        return np.asarray([INDEX_VERSION, st.st_size, st.st_mtime_ns], np.int64)

    def _load_or_build_index(self):
        stamp = self._stamp()
        if self.index_file and os.path.isfile(self.index_file):
            try:
                with np.load(self.index_file, allow_pickle=False) as z:
                    if np.array_equal(z['stamp'], stamp):
                        return z['ids'], z['offsets'], z['lengths'], z['lines']
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                pass  # unreadable cache: rebuilt below
        index = self._scan()
        if self.index_file:
            tmp = f'{self.index_file}.{os.getpid()}.tmp.npz'
            try:
                np.savez(tmp, stamp=stamp, ids=index[0], offsets=index[1],
                         lengths=index[2], lines=index[3])
                os.replace(tmp, self.index_file)
            except OSError as e:  # e.g. a read-only data folder: keep it in memory
                MMLogger.get_current_instance().info(
                    f'{self.path}: index not cached ({e}); kept in memory')
        return index

    def _scan(self):
        """One pass in blocks of ``block_size``: ``(sorted ids, byte offset, byte length,
        0-based line number)`` of every line; a very long line costs no more memory
        than a block (only its first :data:`ID_PREFIX` bytes are kept)."""
        ids: List[bytes] = []
        offs: List[int] = []
        lens: List[int] = []
        lines: List[int] = []
        unnamed: List[int] = []

        def record(head: bytes, start: int, end: int, lineno: int) -> None:
            if not head.strip():
                return  # a blank line
            tab = head.find(b'\t')
            key = head[:tab].strip() if tab > 0 else b''
            if not key:
                unnamed.append(lineno + 1)
                return
            ids.append(key)
            offs.append(start)
            lens.append(end - start)
            lines.append(lineno)

        with open(self.path, 'rb') as f:
            base = start = lineno = 0
            head = b''
            while True:
                block = f.read(self.block_size)
                if not block:
                    break
                self.bytes_read += len(block)
                pos = 0
                while True:
                    nl = block.find(b'\n', pos)
                    stop = len(block) if nl < 0 else nl
                    if len(head) < ID_PREFIX:
                        head += block[pos:min(stop, pos + ID_PREFIX - len(head))]
                    if nl < 0:
                        break
                    record(head, start, base + nl + 1, lineno)
                    start, head, lineno, pos = base + nl + 1, b'', lineno + 1, nl + 1
                base += len(block)
            if start < base:  # a last line without a newline
                record(head, start, base, lineno)
        if unnamed:
            MMLogger.get_current_instance().warning(
                f'{self.path}: {len(unnamed)} lines without an image id (first: line '
                f'{unnamed[0]}) are not indexed')
        return self._sorted(ids, offs, lens, lines)

    def _sorted(self, ids, offs, lens, lines):
        ids = np.asarray(ids, dtype=bytes) if ids else np.zeros(0, 'S1')
        order = np.argsort(ids, kind='stable')  # ties keep file order
        ids = ids[order]
        first = np.ones(len(ids), bool)
        first[1:] = ids[1:] != ids[:-1]
        if not first.all():
            MMLogger.get_current_instance().warning(
                f'{self.path}: {int((~first).sum())} repeated image ids; the first line '
                'of each is used')
        keep = order[first]
        return (ids[first], np.asarray(offs, np.int64)[keep],
                np.asarray(lens, np.int64)[keep], np.asarray(lines, np.int64)[keep])

    # ------------------------------------------------------------------ access
    def _find(self, image_id) -> int:
        key = str(image_id).encode()
        i = int(np.searchsorted(self.ids, key))
        if i < len(self.ids) and self.ids[i] == key:
            return i
        return -1

    def __contains__(self, image_id) -> bool:
        return self._find(image_id) >= 0

    def __len__(self) -> int:
        return len(self.ids)

    def _file(self):
        if self._fh is None or self._pid != os.getpid():  # one handle per worker
            self._fh, self._pid = open(self.path, 'rb'), os.getpid()
        return self._fh

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state['_fh'] = state['_pid'] = None  # file handles do not cross processes
        return state

    def read_line(self, image_id) -> Tuple[bytes, str]:
        """The raw line of ``image_id`` and ``'<path>, line N (image_id X)'``.

        Raises:
            BadSampleError: the id is not in the file, or the line is no longer where
                the index says (the file changed).
        """
        i = self._find(image_id)
        if i < 0:
            raise BadSampleError(f'image_id {image_id} not in {self.path}')
        where = f'{self.path}, line {int(self.lines[i]) + 1} (image_id {image_id})'
        f = self._file()
        f.seek(int(self.offsets[i]))
        raw = f.read(int(self.lengths[i]))
        self.bytes_read += len(raw)
        if len(raw) != self.lengths[i]:
            raise BadSampleError(f'{where}: the file is shorter than when it was indexed')
        return raw, where

    def get(self, image_id) -> RegionRecord:
        """The regions of ``image_id``.

        Raises:
            BadSampleError: naming the file, the line and the id: id not in the file, a
                truncated or malformed line (wrong number of fields, invalid base64,
                arrays not ``num_boxes`` rows).
        """
        raw, where = self.read_line(image_id)
        parts = raw.rstrip(b'\r\n').split(b'\t')
        if len(parts) != len(self.fields):
            raise BadSampleError(f'{where}: {len(parts)} tab-separated fields, expected '
                                 f'{len(self.fields)} ({", ".join(self.fields)}): '
                                 'truncated or malformed line')
        row: Dict[str, bytes] = dict(zip(self.fields, parts))
        try:
            w, h, k = (int(float(row[f])) for f in ('image_w', 'image_h', 'num_boxes'))
        except ValueError:
            raise BadSampleError(f'{where}: image_w, image_h, num_boxes are not numbers')
        arrays = {}
        for name, cols in _widths(self.feature_dim).items():
            if name not in row:
                continue
            field = row[name]
            if field[:2] == b"b'" and field[-1:] == b"'":  # Python 3 ports writing bytes
                field = field[2:-1]
            try:
                buf = base64.b64decode(field, validate=True)
            except (binascii.Error, ValueError):
                raise BadSampleError(f'{where}: {name} is not valid base64 (truncated or '
                                     'malformed line)')
            arrays[name] = _array(buf, name, k, cols, where)
        return RegionRecord(arrays['boxes'], arrays['features'], arrays.get('cls_prob'),
                            (w, h), where)


def read_region_npz(path: str, keys: Optional[Dict[str, str]] = None,
                    feature_dim: Optional[int] = None) -> RegionRecord:
    """The regions stored in one ``.npz`` file.

    Args:
        path: the file.
        keys: array names in the file, for ``boxes`` (``(K, 4)``), ``features``
            (``(K, D)``), optional ``cls_prob`` (``(K, C)``), optional ``image_w`` /
            ``image_h``; default: those names.
        feature_dim: D, when known (checked).

    Raises:
        BadSampleError: naming the file: missing, unreadable, without ``boxes`` or
            ``features``, or with arrays of disagreeing shapes.
    """
    names = dict(boxes='boxes', features='features', cls_prob='cls_prob',
                 image_w='image_w', image_h='image_h')
    names.update(keys or {})
    if not os.path.isfile(path):
        raise BadSampleError(f'region feature file not found: {path}')
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[v] for k, v in names.items() if v in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise BadSampleError(f'cannot read {path} (truncated or not an .npz): {e}')
    for k in ('boxes', 'features'):
        if k not in data:
            raise BadSampleError(f'{path}: no array {names[k]!r} ({k})')
    if data['boxes'].ndim != 2:
        raise BadSampleError(f'{path}: {names["boxes"]!r} has shape '
                             f'{list(data["boxes"].shape)}, not (K, 4)')
    k = data['boxes'].shape[0]
    arrays = {n: _array(data[n], n, k, c, path)
              for n, c in _widths(feature_dim).items() if n in data}
    wh = None
    if 'image_w' in data and 'image_h' in data:
        wh = (int(data['image_w']), int(data['image_h']))
    return RegionRecord(arrays['boxes'], arrays['features'], arrays.get('cls_prob'), wh,
                        path)
