"""Resize and flip with the original VL-BERT's geometry (the ``*-original`` configs).

mmdet's ``Resize(keep_ratio=True)`` rounds the scaled size (500x333 -> 901x600) and its
``RandomFlip`` maps a box as ``x' = W - x``. The original (jackroos/VL-BERT,
``*/data/transforms/transforms.py``) truncates the size (500x333 -> 900x600) and flips
as ``x' = W - 1 - x``. Both classes reuse mmdet's transforms and change only that.
"""
from typing import Tuple

from mmdet.datasets.transforms import RandomFlip, Resize
from mmdet.structures.bbox import autocast_box_type

from vlbert_e2e.registry import TRANSFORMS


def original_resize_size(w: int, h: int, min_size: int = 600,
                         max_size: int = 1000) -> Tuple[int, int]:
    """``(new_w, new_h)`` as the original computes it (hand-written: a port of its
    ``Resize.get_size``; no mmcv/mmdet rescale truncates).

    The short side becomes ``min_size``, unless the long side would exceed
    ``max_size``: then the short side becomes ``int(max_size * short / long)``. The
    long side is ``int(short_side * long / short)``, truncated.

    Args:
        w, h: the image size in pixels.
        min_size: target short side in pixels.
        max_size: cap on the long side in pixels (``None``: no cap).

    Returns:
        ``(new_w, new_h)`` in pixels; ``(w, h)`` when the short side already is the
        target.
    """
    size = min_size
    short, long = float(min(w, h)), float(max(w, h))
    if max_size is not None and long / short * size > max_size:
        size = int(max_size * short / long)
    if (w <= h and w == size) or (h <= w and h == size):
        return w, h
    if w < h:
        return size, int(size * h / w)
    return int(size * w / h), size


@TRANSFORMS.register_module()
class OriginalResize(Resize):
    """mmdet's ``Resize`` to the size :func:`original_resize_size` gives (boxes scaled
    by ``new/old`` per axis, ``scale_factor`` recorded as mmdet does).

    Args:
        min_size: target short side in pixels (the original: 600).
        max_size: cap on the long side in pixels (the original: 1000).
        backend: ``'pillow'`` (default) resamples as the original's torchvision
            ``F.resize`` on a PIL image does (bilinear); ``'cv2'`` is mmdet's default.
        **kwargs: the other arguments of mmdet's ``Resize`` (``clip_object_border``,
            ``interpolation``).
    """

    def __init__(self, min_size: int = 600, max_size: int = 1000,
                 backend: str = 'pillow', **kwargs) -> None:
        super().__init__(scale=(max_size, min_size), keep_ratio=False, backend=backend,
                         **kwargs)
        self.min_size, self.max_size = min_size, max_size

    @autocast_box_type()
    def transform(self, results: dict) -> dict:
        """Resize the image and its annotations as mmdet's ``Resize`` does.

        Args:
            results: reads ``img`` (``(H, W, 3)``) and, when present, ``gt_bboxes``,
                ``gt_masks``, ``gt_seg_map``.

        Returns:
            ``results`` with ``scale`` (the :func:`original_resize_size` target,
            ``(new_w, new_h)``), the resized ``img`` and annotations, and mmdet's
            ``img_shape``, ``scale_factor`` (``(new_w / W, new_h / H)``) and
            ``homography_matrix``.
        """
        h, w = results['img'].shape[:2]
        results['scale'] = original_resize_size(w, h, self.min_size, self.max_size)
        self._resize_img(results)
        self._resize_bboxes(results)
        self._resize_masks(results)
        self._resize_seg(results)
        self._record_homography_matrix(results)
        return results


@TRANSFORMS.register_module()
class OriginalRandomFlip(RandomFlip):
    """mmdet's ``RandomFlip`` with boxes flipped as ``x' = W - 1 - x`` (and
    ``y' = H - 1 - y`` vertically), as the original does; mmdet's is ``W - x``.
    Takes mmdet ``RandomFlip``'s arguments (``prob``, ``direction``)."""

    @autocast_box_type()
    def _flip(self, results: dict) -> None:
        super()._flip(results)
        direction = results['flip_direction']
        if results.get('gt_bboxes', None) is not None:
            results['gt_bboxes'].translate_(
                [-float(direction in ('horizontal', 'diagonal')),
                 -float(direction in ('vertical', 'diagonal'))])
