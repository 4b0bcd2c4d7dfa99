"""RegionFeatures: what a region encoder hands to the VL part of the model."""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.structures import InstanceData
from torch import Tensor


@dataclass
class RegionFeatures:
    """The RoIs of a batch of images and their features; all lists have one entry per
    image, ``K_i`` RoIs each, box 0 = the whole image.

    Attributes:
        boxes: (K_i, 4) boxes (x1, y1, x2, y2) in the resized image, pixels, detached.
        feats: (K_i, D) appearance features.
        masked: (K_i,) bool, RoIs whose pixels were zeroed (masked RoI modelling).
        cls_dist: (K_i, C + 1) detector class distribution on the unmasked image
            (background last), or ``None`` when the encoder was not asked for it.
        img_wh: (2,) width and height of the resized image, pixels.
        det_losses: the detector's own losses of this pass (``det_`` keys), or ``{}``.
        feature_maps: the backbone (+ neck) outputs of this pass, (N, C_l, H_l, W_l)
            each (``N`` images before :meth:`take`).
        detections: the detector's results on this pass (resized-image coordinates),
            when it ran: ``bboxes`` (n, 4), ``scores`` (n,), ``labels`` (n,).
        map_rows: after :meth:`take`, the row of ``feature_maps`` of each entry.
        attr_dist: (K_i, A) the attribute head's distribution (detached), or ``None``
            without one.
    """
    boxes: List[Tensor]
    feats: List[Tensor]
    masked: List[Tensor]
    cls_dist: Optional[List[Tensor]]
    img_wh: List[Tensor]
    det_losses: Dict[str, Tensor]
    feature_maps: Tuple[Tensor, ...] = ()
    detections: Optional[List[InstanceData]] = None
    map_rows: Optional[List[int]] = None
    attr_dist: Optional[List[Tensor]] = None

    def take(self, index: Sequence[int]) -> 'RegionFeatures':
        """The entries of images ``index`` (repeats allowed: one image shared by several
        samples); the detector losses stay as they are and the feature maps are not
        copied (:meth:`row_feature_maps` gathers them when needed)."""
        if list(index) == list(range(len(self.boxes))):
            return self

        def pick(xs):
            return None if xs is None else [xs[i] for i in index]
        rows = index if self.map_rows is None else [self.map_rows[i] for i in index]
        return RegionFeatures(pick(self.boxes), pick(self.feats), pick(self.masked),
                              pick(self.cls_dist), pick(self.img_wh), self.det_losses,
                              self.feature_maps, pick(self.detections), list(rows),
                              pick(self.attr_dist))

    def row_feature_maps(self) -> Tuple[Tensor, ...]:
        """The feature maps with one row per entry (gathered after :meth:`take`)."""
        if self.map_rows is None:
            return self.feature_maps
        idx = torch.as_tensor(self.map_rows, device=self.feature_maps[0].device)
        return tuple(f[idx] for f in self.feature_maps)
