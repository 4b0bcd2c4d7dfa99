"""Reading an image file a user may give (below every layer that shows or loads images).

The datasets' ``LoadVLImage``, the visualization hook and the inferencer read images
through :func:`decode_image`, so one file is refused with one message everywhere.
"""
import io
import os
import warnings
from typing import Optional

import cv2
import numpy as np
from mmengine.fileio import get
from PIL import Image


class BadSampleError(ValueError):
    """A sample that cannot be used (missing/corrupt image, malformed record)."""


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line. An error re-raised from a DataLoader worker
    carries the worker's traceback in its message: its last line is the message."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    line = lines[-1] if lines else type(err).__name__
    prefix = f'{type(err).__name__}: '
    return line.split(prefix, 1)[1] if prefix in line else line


def _check_header(buf: bytes, path: str) -> Optional[str]:
    """Refuse an image too large to decode and resize in memory, from its header
    (Pillow reads the size without decoding; its decompression-bomb limit,
    ``2 x PIL.Image.MAX_IMAGE_PIXELS`` = 178,956,970 pixels by default, is the limit).
    Returns Pillow's name of the format, or ``None`` when Pillow does not know it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(buf)) as im:
                return im.format
    except Image.DecompressionBombError as e:
        raise BadSampleError(f'image too large to decode and resize in memory '
                             f'({one_line(e)}): {path}') from None
    except Exception:  # noqa: BLE001 -- not Pillow's format: OpenCV may still read it
        return None


def decode_image(path: str) -> np.ndarray:
    """Read ``path`` as a 3-channel BGR uint8 array (OpenCV).

    EXIF orientation is applied (``IMREAD_COLOR`` does it), grey and RGBA images become
    3-channel BGR.

    Raises:
        BadSampleError: naming the file, when it is missing, empty, not an image, in a
            format OpenCV cannot read, truncated beyond decoding, or too large to
            decode in memory (Pillow's decompression-bomb limit, read from the header;
            OpenCV's own ``CV_IO_MAX_IMAGE_PIXELS`` error is caught too).
    """
    if not os.path.isfile(path) and '://' not in path:
        raise BadSampleError(f'image file not found: {path}')
    buf = get(path)
    if len(buf) == 0:
        raise BadSampleError(f'image file is empty (0 bytes): {path}')
    fmt = _check_header(buf, path)
    try:
        img = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR)
    except Exception as e:  # noqa: BLE001 -- cv2.error or any decoder failure
        raise BadSampleError(f'cannot decode image ({one_line(e)}): {path}') from None
    if img is None or img.size == 0 or min(img.shape[:2]) < 1:
        unsupported = fmt and os.path.isfile(path) and not cv2.haveImageReader(path)
        why = f'{fmt} is not supported by OpenCV' if unsupported else 'corrupt or not an image'
        raise BadSampleError(f'cannot decode image ({why}): {path}')
    if buf[:2] == b'\xff\xd8' and not buf.rstrip(b'\x00').endswith(b'\xff\xd9'):
        raise BadSampleError(f'truncated JPEG (no end-of-image marker): {path}')
    return img
