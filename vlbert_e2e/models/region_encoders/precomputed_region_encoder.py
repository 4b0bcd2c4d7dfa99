"""Region encoder over features computed elsewhere (bottom-up-attention): no pooling."""
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import RegionFeatures, roi_field

from .box_ops import clip_and_fix_boxes


@MODELS.register_module()
class PrecomputedRegionEncoder(BaseModule):
    """VL-BERT's visual tokens from precomputed region features, as the original's
    ``-prec`` models (``IMAGE_FEAT_PRECOMPUTED``) read them.

    Every sample carries its given RoIs (``gt_rois.bboxes``, (K, 4), in the ``img_shape``
    frame) and their features (``region_feats``, ``(K, D)``), both written by the
    ``LoadRegionFeatures`` transform; this module reads no file. Per sample it returns,
    like :class:`DetectorRegionEncoder` (same :class:`RegionFeatures`, so the rest of the
    model is unchanged):

    - box 0 = the whole image ``[0, 0, W-1, H-1]``, its feature the mean of the
      features of the RoIs that are not masked (zero when there are none: an image
      with 0 boxes, or every box masked), as the original's ``-prec`` datasets compute
      it (they divide by ``n + 1e-5``; we divide by ``n``);
    - a masked RoI (``gt_rois.masked``, chosen by ``MaskRoIs``) has its feature replaced by
      the learned ``object_mask_visual_embedding`` (zero-initialised, as the
      original's), instead of zeroed pixels;
    - ``cls_dist`` (``need_cls_dist=True``): the samples' ``gt_rois.cls_dist`` (class
      probabilities stored with the features) after a zero row for box 0, for MVRC
      targets and object tags.

    Args:
        feature_dim: D, the size of the stored features (bottom-up-attention: 2048);
            also the ``appearance_dim`` of the visual embedding.
        need_cls_dist: return the stored class distributions (every sample must have
            ``roi_cls_dist``).
        min_box_size: smallest box width/height after clipping: 1 (ours) or 0 (the
            original keeps ``x1 == x2``); see :func:`clip_and_fix_boxes`.

    Raises:
        ValueError: (forward) a sample without ``region_feats``, features of another
            size, or ``need_cls_dist`` without ``roi_cls_dist``.
    """

    def __init__(self, feature_dim: int = 2048, need_cls_dist: bool = False,
                 min_box_size: float = 1.0, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.min_box_size = min_box_size
        self.feature_dim = feature_dim
        self.need_cls_dist = need_cls_dist
        self.object_mask_visual_embedding = nn.Embedding(1, feature_dim)
        nn.init.zeros_(self.object_mask_visual_embedding.weight)

    @property
    def out_channels(self) -> int:
        """Size of the appearance feature (``feature_dim``)."""
        return self.feature_dim

    def forward(self, imgs: Optional[Tensor], samples: Sequence) -> RegionFeatures:
        """Regions of a batch.

        Args:
            imgs: ignored (``None`` for samples read by ``LoadRegionFeatures``).
            samples: data samples with ``region_feats`` (K, D) and ``gt_rois``.

        Returns:
            :class:`RegionFeatures`, one entry per sample (no detector losses, no
            feature maps).
        """
        mask_feat = self.object_mask_visual_embedding.weight[0]
        boxes, feats, masked, dists, img_wh = [], [], [], [], []
        for s in samples:
            f, b, m = self._sample_regions(s, mask_feat)
            h, w = s.img_shape[:2]
            whole_feat = f[~m].mean(0) if bool((~m).any()) else f.new_zeros(f.shape[1])
            boxes.append(torch.cat([b.new_tensor([[0., 0., w - 1., h - 1.]]), b]))
            feats.append(torch.cat([whole_feat[None],
                                    torch.where(m[:, None], mask_feat.to(f.dtype), f)]))
            masked.append(torch.cat([m.new_zeros(1), m]))
            img_wh.append(b.new_tensor([w, h]))
            if self.need_cls_dist:
                dists.append(self._cls_dist(s, len(b), f))
        return RegionFeatures(boxes, feats, masked,
                              _same_width(dists) if self.need_cls_dist else None, img_wh, {}, ())

    def _sample_regions(self, s, mask_feat: Tensor):
        """``(features (K, D), clipped boxes (K, 4), masked (K,))`` of one sample."""
        if 'region_feats' not in s:
            raise ValueError('PrecomputedRegionEncoder needs region_feats in every sample: '
                             'load them with LoadRegionFeatures in the pipeline')
        dev = mask_feat.device
        f = torch.as_tensor(s.region_feats, device=dev).float()
        if f.dim() != 2 or f.shape[1] != self.feature_dim:
            raise ValueError(f'region_feats of shape {list(f.shape)} in sample '
                             f'{s.metainfo.get("sample_id")}; feature_dim is '
                             f'{self.feature_dim}')
        boxes = roi_field(s, 'bboxes')
        b = torch.as_tensor(boxes, device=dev).float().view(-1, 4) \
            if boxes is not None else f.new_zeros((0, 4))
        if len(b) != len(f):
            raise ValueError(f'{len(b)} boxes but {len(f)} region features in sample '
                             f'{s.metainfo.get("sample_id")}')
        b = clip_and_fix_boxes(b, s.img_shape[:2], self.min_box_size)
        m = torch.zeros(len(b), dtype=torch.bool, device=dev)
        masked = roi_field(s, 'masked')
        if masked is not None and len(b):
            m = torch.as_tensor(masked, dtype=torch.bool, device=dev).view(len(b))
        return f, b, m

    @staticmethod
    def _cls_dist(s, k: int, like: Tensor) -> Tensor:
        dist = roi_field(s, 'cls_dist')
        if dist is None:
            raise ValueError('need_cls_dist=True but sample '
                             f'{s.metainfo.get("sample_id")} has no roi_cls_dist (class '
                             'probabilities stored with the features)')
        d = torch.as_tensor(dist, device=like.device).float()
        if d.dim() != 2 or len(d) != k:
            raise ValueError(f'roi_cls_dist of shape {list(d.shape)} for {k} boxes in sample '
                             f'{s.metainfo.get("sample_id")}')
        return torch.cat([d.new_zeros((1, d.shape[1])), d])


def _same_width(dists: List[Tensor]) -> List[Tensor]:
    """Give the ``(1 + 0, 0)`` distributions of images without boxes the batch's class
    count (C is unknown from an empty array)."""
    c = max(d.shape[1] for d in dists)
    if any(d.shape[1] not in (0, c) for d in dists):
        raise ValueError(f'class distributions of sizes {sorted({d.shape[1] for d in dists})} '
                         'in one batch')
    return [d if d.shape[1] == c else d.new_zeros((len(d), c)) for d in dists]
