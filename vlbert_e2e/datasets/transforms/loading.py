"""Image loading for any raw image file a user may give."""
import os
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get
from mmengine.logging import MMLogger

from vlbert_e2e.registry import TRANSFORMS


class BadSampleError(ValueError):
    """A sample that cannot be used (missing/corrupt image, malformed record)."""


def decode_image(path: str) -> np.ndarray:
    """Read ``path`` as a 3-channel BGR uint8 array (OpenCV).

    EXIF orientation is applied (``IMREAD_COLOR`` does it), grey and RGBA images become
    3-channel BGR. Raises :class:`BadSampleError` naming the file when it is missing,
    empty, not an image, or truncated beyond decoding.
    """
    if not os.path.isfile(path) and '://' not in path:
        raise BadSampleError(f'image file not found: {path}')
    buf = get(path)
    if len(buf) == 0:
        raise BadSampleError(f'image file is empty (0 bytes): {path}')
    img = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.size == 0 or min(img.shape[:2]) < 1:
        raise BadSampleError(f'cannot decode image (corrupt or not an image): {path}')
    if buf[:2] == b'\xff\xd8' and not buf.rstrip(b'\x00').endswith(b'\xff\xd9'):
        raise BadSampleError(f'truncated JPEG (no end-of-image marker): {path}')
    return img


@TRANSFORMS.register_module()
class LoadVLImage(BaseTransform):
    """Load ``results['img_path']`` with :func:`decode_image`.

    Args:
        on_bad_sample: ``'skip'`` logs a warning naming the file and returns ``None``
            (MMEngine's dataset then draws another sample and the skip is counted);
            ``'raise'`` raises :class:`BadSampleError` naming the file.
    """

    def __init__(self, on_bad_sample: str = 'raise') -> None:
        if on_bad_sample not in ('skip', 'raise'):
            raise ValueError(f"on_bad_sample must be 'skip' or 'raise', got {on_bad_sample!r}")
        self.on_bad_sample = on_bad_sample
        self.num_skipped = 0

    def transform(self, results: dict) -> Optional[dict]:
        try:
            img = decode_image(results['img_path'])
        except BadSampleError as e:
            if self.on_bad_sample == 'raise':
                raise
            self.num_skipped += 1
            MMLogger.get_current_instance().warning(
                f'skipping sample (skipped so far in this worker: {self.num_skipped}): {e}')
            return None
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results
