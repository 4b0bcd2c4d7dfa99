"""The ``files`` output of img2dataset, as it lies on disk.

img2dataset (``--output_format files``) writes one sub-folder per shard, and in it,
per downloaded sample, ``<key>.<encode_format>`` (``jpg``, ``png`` or ``webp``),
``<key>.txt`` (the caption, when a caption column was given) and ``<key>.json``
(``url``, ``caption``, ``key``, ``status``, sizes...). The shard's ``.parquet`` and
``_stats.json`` lie next to the shard folders and are not read. Written by hand: no
reader of this layout ships with img2dataset or MMEngine.
"""
import json
import os
import os.path as osp
from collections import defaultdict
from typing import Callable, List, Optional

from .transforms.loading import BadSampleError

# img2dataset's encode_format choices (jpg, png, webp), plus the spellings and formats
# a re-encoded or hand-made folder may hold; decode_image reads them all
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff')
SIDE_EXTENSIONS = ('.json', '.txt')
_ANY_IMAGE = '{' + ','.join(e[1:] for e in IMAGE_EXTENSIONS) + '}'


def _read_utf8(path: str) -> str:
    with open(path, 'rb') as f:
        data = f.read()
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise BadSampleError(f'{path}: not UTF-8 ({e.reason} at byte {e.start})') from None


def read_side_json(path: str) -> dict:
    """The side ``.json`` of a sample, as a dict.

    Raises:
        BadSampleError: naming ``path``, when it is not UTF-8, empty, not JSON or not
            a JSON object.
    """
    text = _read_utf8(path)
    if not text.strip():
        raise BadSampleError(f'{path}: empty side file ({len(text)} bytes), not JSON')
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadSampleError(f'{path}: not valid JSON ({e.msg}, line {e.lineno} column '
                             f'{e.colno})') from None
    if not isinstance(meta, dict):
        raise BadSampleError(f'{path}: expected a JSON object, got {type(meta).__name__}')
    return meta


def read_caption(sample: dict) -> str:
    """The caption of a scanned ``sample``: its ``.txt`` file, else the ``caption`` of
    its ``.json``.

    Args:
        sample: one dict of :func:`scan_img2dataset_folder`.

    Returns:
        The caption; from a ``.txt`` file, stripped of surrounding whitespace.

    Raises:
        BadSampleError: naming the file, when neither holds a caption or the ``.txt``
            file is not UTF-8.
    """
    if sample['txt_path'] is not None:
        return _read_utf8(sample['txt_path']).strip()
    caption = sample['meta'].get('caption')
    if not isinstance(caption, str):
        raise BadSampleError(f'{sample["where"]}: no caption (no {sample["key"]}.txt next to '
                             f'it and no "caption" in its .json)')
    return caption


def _sample(shard: str, key: str, files: dict) -> Optional[dict]:
    """The sample ``key`` of ``shard`` from its files by extension; ``None`` for a
    download img2dataset records as failed."""
    json_path = files.get('.json')
    meta = read_side_json(json_path) if json_path else {}
    image = next((files[e] for e in IMAGE_EXTENSIONS if e in files), None)
    if meta.get('status', 'success') != 'success':
        return None
    where = json_path or image or files['.txt']
    if image is None:
        raise BadSampleError(f'{where}: no image file {key}.{_ANY_IMAGE} next to it')
    return dict(key=f'{shard}/{key}', img_path=image, txt_path=files.get('.txt'), meta=meta,
                where=where)


def scan_img2dataset_folder(folder: str, on_bad: Callable[[BadSampleError], None]
                            ) -> List[dict]:
    """Every sample of the img2dataset ``files`` folder ``folder``.

    A sample is a key with an image (any of :data:`IMAGE_EXTENSIONS`, whatever
    ``encode_format`` was used), a ``.json`` or a ``.txt``. Each is a dict with ``key``
    (``'<shard>/<key>'``), ``img_path``, ``txt_path`` (``None`` when absent), ``meta``
    (the ``.json``, ``{}`` when absent) and ``where`` (the file to name in errors).
    A key whose ``.json`` is empty or malformed, or that has side files but no image,
    is passed to ``on_bad`` as a :class:`BadSampleError` naming the file. A sample
    whose ``.json`` has a ``status`` other than ``'success'`` (a failed download) is
    left out silently.

    Args:
        folder: the img2dataset output folder (its shard sub-folders are scanned, in
            sorted order, and the keys of each in sorted order).
        on_bad: called with each bad key's error (e.g. a :class:`RecordChecker`,
            which raises or counts it).

    Returns:
        The samples, in shard then key order.

    Raises:
        FileNotFoundError: ``folder`` is not a folder.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'img2dataset folder not found: {folder}')
    out = []
    for shard in sorted(e.name for e in os.scandir(folder) if e.is_dir()):
        files = defaultdict(dict)
        for entry in os.scandir(osp.join(folder, shard)):
            key, ext = osp.splitext(entry.name)
            if ext.lower() in IMAGE_EXTENSIONS + SIDE_EXTENSIONS and entry.is_file():
                files[key][ext.lower()] = entry.path
        for key in sorted(files):
            try:
                sample = _sample(shard, key, files[key])
            except BadSampleError as e:
                on_bad(e)
                continue
            if sample is not None:
                out.append(sample)
    return out
