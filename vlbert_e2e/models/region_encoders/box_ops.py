"""Box helpers the detector does not provide (written by hand, vectorised)."""
from typing import Optional, Sequence, Tuple

import torch
from mmcv.ops import batched_nms
from mmengine.structures import InstanceData
from torch import Tensor


def clip_and_fix_boxes(boxes: Tensor, img_hw: Tuple[int, int]) -> Tensor:
    """Clip boxes to the image and give degenerate ones a 1-pixel extent.

    Policy (documented in docs/model.md): a box partly outside the image is clipped to
    ``[0, W-1] x [0, H-1]``; a box with ``x2 <= x1`` or ``y2 <= y1`` (also after
    clipping) becomes ``x2 = x1 + 1`` / ``y2 = y1 + 1``; NaN/inf coordinates become 0.
    Boxes are never dropped, so per-box labels and references stay aligned.
    """
    h, w = img_hw
    b = torch.nan_to_num(boxes.float(), nan=0.0, posinf=0.0, neginf=0.0)
    x1 = b[:, 0].clamp(0, max(w - 2, 0))
    y1 = b[:, 1].clamp(0, max(h - 2, 0))
    x2 = torch.maximum(b[:, 2], x1 + 1).clamp(max=w - 1)
    y2 = torch.maximum(b[:, 3], y1 + 1).clamp(max=h - 1)
    return torch.stack([x1, y1, x2, y2], -1).to(boxes.dtype)


def masked_pixel_map(imgs: Tensor, boxes: Sequence[Tensor],
                     masked: Sequence[Tensor]) -> Tensor:
    """``[B, 1, H, W]`` map, 0 on the pixels of masked boxes and 1 elsewhere.

    A pixel ``(px, py)`` is inside box ``(x1, y1, x2, y2)`` when
    ``floor(x1) <= px <= ceil(x2)`` and the same for y (the box's pixels, inclusive).
    """
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
    x2, y2 = bx[:, 2].ceil()[:, None, None], bx[:, 3].ceil()[:, None, None]
    inside = ((xs >= x1) & (xs <= x2) & (ys >= y1) & (ys <= y2)).to(imgs.dtype)
    hit = imgs.new_zeros((b, h, w)).index_add_(0, idx, inside)
    return (hit == 0).to(imgs.dtype)[:, None]




def top_boxes(r: InstanceData, score_thr: float, nms_iou: Optional[float],
              topk: int) -> InstanceData:
    """Detections ``r`` (``bboxes``, ``scores``, ``labels``) scoring ``>= score_thr``,
    after class-agnostic NMS at ``nms_iou`` (``None``: none), the ``topk`` best first."""
    r = r[r.scores >= score_thr]
    if nms_iou is None:
        order = r.scores.argsort(descending=True)
    else:
        _, order = batched_nms(r.bboxes, r.scores, r.labels,
                               dict(type='nms', iou_threshold=nms_iou),
                               class_agnostic=True)  # sorted by score
    return r[order[:topk]]
