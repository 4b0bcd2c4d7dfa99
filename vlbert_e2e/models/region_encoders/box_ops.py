"""Box helpers the detector does not provide (written by hand, vectorised)."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.ops import batched_nms
from mmengine.structures import InstanceData
from torch import Tensor


def clip_and_fix_boxes(boxes: Tensor, img_hw: Tuple[int, int],
                       min_size: float = 1.0) -> Tensor:
    """Clip boxes to the image and give degenerate ones a ``min_size`` extent.

    Policy (documented in docs/model.md): a box partly outside the image is clipped to
    ``[0, W-1] x [0, H-1]``; a box with ``x2 < x1 + min_size`` (also after clipping)
    becomes ``x2 = x1 + min_size``, the same for y; NaN/inf coordinates become 0.
    Boxes are never dropped, so per-box labels and references stay aligned.

    Args:
        boxes: ``(N, 4)`` boxes ``x1, y1, x2, y2`` in pixels.
        img_hw: ``(H, W)`` of the image the boxes lie on.
        min_size: smallest width/height in pixels; 1 (ours) widens a box with
            ``x1 == x2`` to 1 pixel, 0 keeps it 0 wide as the original VL-BERT does.
    """
    h, w = img_hw
    b = torch.nan_to_num(boxes.float(), nan=0.0, posinf=0.0, neginf=0.0)
    x1 = b[:, 0].clamp(0, max(w - 1 - min_size, 0))
    y1 = b[:, 1].clamp(0, max(h - 1 - min_size, 0))
    x2 = torch.maximum(b[:, 2], x1 + min_size).clamp(max=w - 1)
    y2 = torch.maximum(b[:, 3], y1 + min_size).clamp(max=h - 1)
    return torch.stack([x1, y1, x2, y2], -1).to(boxes.dtype)


PIXEL_RULES = ('outward', 'truncate')


def masked_pixel_map(imgs: Tensor, boxes: Sequence[Tensor],
                     masked: Sequence[Tensor], pixel_rule: str = 'outward') -> Tensor:
    """``[B, 1, H, W]`` map, 0 on the pixels of masked boxes and 1 elsewhere.

    Args:
        imgs: ``(B, C, H, W)`` images (only their shape, dtype and device are used).
        boxes: per image, ``(K_i, 4)`` boxes ``x1, y1, x2, y2`` in pixels.
        masked: per image, ``(K_i,)`` bool, the boxes whose pixels are zeroed.
        pixel_rule: ``'outward'`` (ours): pixel ``(px, py)`` is inside when
            ``floor(x1) <= px <= ceil(x2)`` and the same for y (every pixel the box
            touches); ``'truncate'`` (the original VL-BERT): ``int(x1) <= px <=
            int(x2)`` (coordinates are >= 0, so ``int`` is ``floor``).

    Raises:
        ValueError: for an unknown ``pixel_rule``.
    """
    if pixel_rule not in PIXEL_RULES:
        raise ValueError(f'pixel_rule must be one of {PIXEL_RULES}, got {pixel_rule!r}')
    hi = torch.ceil if pixel_rule == 'outward' else torch.floor
    b, _, h, w = imgs.shape
    sel = [bx[m] for bx, m in zip(boxes, masked)]
    idx = torch.cat([torch.full((len(s),), i, dtype=torch.long, device=imgs.device)
                     for i, s in enumerate(sel)])
    keep = imgs.new_ones((b, 1, h, w))
    if idx.numel() == 0:
        return keep
    bx = torch.cat(sel)
    ys = torch.arange(h, device=imgs.device)[None, :, None]
    xs = torch.arange(w, device=imgs.device)[None, None, :]
    x1, y1 = bx[:, 0].floor()[:, None, None], bx[:, 1].floor()[:, None, None]
    x2, y2 = hi(bx[:, 2])[:, None, None], hi(bx[:, 3])[:, None, None]
    inside = ((xs >= x1) & (xs <= x2) & (ys >= y1) & (ys <= y2)).to(imgs.dtype)
    hit = imgs.new_zeros((b, h, w)).index_add_(0, idx, inside)
    return (hit == 0).to(imgs.dtype)[:, None]


def top_box_indices(r: InstanceData, score_thr: float, nms_iou: Optional[float],
                    topk: int) -> Tensor:
    """Indices into detections ``r`` (``bboxes``, ``scores``, ``labels``) of those
    scoring ``>= score_thr`` that survive class-agnostic NMS at ``nms_iou`` (``None``:
    no NMS), the ``topk`` best first: the RoIs a region encoder takes from ``r``."""
    keep = (r.scores >= score_thr).nonzero().view(-1)
    if nms_iou is None:
        order = r.scores[keep].argsort(descending=True)
    else:
        _, order = batched_nms(r.bboxes[keep], r.scores[keep], r.labels[keep],
                               dict(type='nms', iou_threshold=nms_iou),
                               class_agnostic=True)  # sorted by score
    return keep[order[:topk]]


def top_boxes(r: InstanceData, score_thr: float, nms_iou: Optional[float],
              topk: int) -> InstanceData:
    """Detections ``r`` at :func:`top_box_indices`, the best first."""
    return r[top_box_indices(r, score_thr, nms_iou, topk)]


WHOLE_IMAGE_BOXES = ('resized', 'original_scaled')


def whole_image_box(img_hw: Tuple[int, int], ori_hw: Optional[Tuple[int, int]] = None,
                    scale_factor: Optional[Tuple[float, float]] = None,
                    hflip: bool = False, mode: str = 'resized') -> List[float]:
    """The whole-image box ``[x1, y1, x2, y2]`` (box 0 of every image), in pixels of
    the resized image.

    Args:
        img_hw: ``(H, W)`` of the resized (and flipped) image.
        ori_hw: ``(H0, W0)`` of the image as loaded; only for ``'original_scaled'``.
        scale_factor: ``(w_scale, h_scale)`` of the resize (mmdet's ``scale_factor``);
            ``None`` means 1.
        hflip: the image was flipped horizontally (``'original_scaled'`` only).
        mode: ``'resized'`` (ours): ``[0, 0, W-1, H-1]``. ``'original_scaled'`` (the
            original VL-BERT): ``[0, 0, W0-1, H0-1]`` built on the loaded image, scaled
            by ``scale_factor``, flipped as ``x' = W - 1 - x`` and clamped to
            ``[0, W-1] x [0, H-1]`` (640x480 resized x1.25: ``[0, 0, 798.75, 598.75]``).

    Raises:
        ValueError: for an unknown ``mode``, or ``'original_scaled'`` without ``ori_hw``.
    """
    h, w = img_hw
    if mode not in WHOLE_IMAGE_BOXES:
        raise ValueError(f'whole_image_box must be one of {WHOLE_IMAGE_BOXES}, got {mode!r}')
    if mode == 'resized':
        return [0., 0., w - 1., h - 1.]
    if ori_hw is None:
        raise ValueError("whole_image_box='original_scaled' needs the sample's ori_shape")
    sx, sy = (1., 1.) if scale_factor is None else (float(scale_factor[0]),
                                                    float(scale_factor[1]))
    x2, y2 = min((ori_hw[1] - 1) * sx, w - 1.), min((ori_hw[0] - 1) * sy, h - 1.)
    x1 = 0.
    if hflip:
        x1, x2 = max(w - 1. - x2, 0.), w - 1.
    return [x1, 0., x2, y2]
