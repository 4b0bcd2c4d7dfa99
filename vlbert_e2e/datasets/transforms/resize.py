"""mmdet's ``Resize`` whose failures name the image instead of stopping the run."""
from typing import Optional, Tuple, Union

import cv2
from mmdet.datasets.transforms import Resize

from vlbert_e2e.registry import TRANSFORMS

from .loading import BadSampleError, BadSamplePolicy, one_line, record_name


@TRANSFORMS.register_module()
class CheckedResize(Resize):
    """mmdet's :class:`~mmdet.datasets.transforms.Resize` (same arguments) for images
    that may not resize: an image so elongated that a side rounds to 0 pixels (a
    3000x1 banner at scale (1000, 600)), or one OpenCV cannot resize (``cv2.error``,
    out of memory). Such a failure becomes a :class:`BadSampleError` naming the file,
    its size and the record, handled by ``on_bad_sample`` as in :class:`LoadVLImage`.

    Args:
        scale, scale_factor, keep_ratio, clip_object_border, backend, interpolation:
            mmdet ``Resize``'s.
        on_bad_sample: ``'raise'`` the error, or ``'skip'``: log it, count it in
            ``policy.num_skipped`` and return ``None`` (MMEngine's dataset then draws
            another sample).
    """

    def __init__(self, scale: Optional[Union[int, Tuple[int, int]]] = None,
                 scale_factor: Optional[Union[float, Tuple[float, float]]] = None,
                 keep_ratio: bool = False, clip_object_border: bool = True,
                 backend: str = 'cv2', interpolation: str = 'bilinear',
                 on_bad_sample: str = 'raise') -> None:
        super().__init__(scale=scale, scale_factor=scale_factor, keep_ratio=keep_ratio,
                         clip_object_border=clip_object_border, backend=backend,
                         interpolation=interpolation)
        self.policy = BadSamplePolicy(on_bad_sample)

    def transform(self, results: dict) -> Optional[dict]:
        """mmdet's ``Resize.transform`` (reads ``img`` ``(H, W, 3)`` and the
        annotations; writes the resized ones, ``img_shape``, ``scale``,
        ``scale_factor``, ...).

        Returns:
            ``results`` resized; ``None`` when the image cannot be resized and
            ``on_bad_sample='skip'``.

        Raises:
            BadSampleError: under ``on_bad_sample='raise'``, when a side would round
                to 0 pixels or OpenCV fails (``cv2.error``, ``MemoryError``), naming
                the size, the scale and the record.
        """
        h, w = results['img'].shape[:2]
        try:
            out = super().transform(results)
            new_h, new_w = out['img'].shape[:2]
            if min(new_h, new_w) < 1:
                raise ValueError(f'a side would be {min(new_h, new_w)} pixels')
        except (cv2.error, MemoryError, ValueError) as e:
            self.policy(BadSampleError(
                f'cannot resize image of {w}x{h} pixels to scale {self.scale} '
                f'({one_line(e)}): {record_name(results)}'))
            return None
        return out
