"""Masked RoI classification with linguistic clues."""
from typing import Dict, List

import torch
from torch import Tensor, nn
from transformers.activations import ACT2FN

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import VLEncoding, roi_field

from .base_vl_head import BaseVLHead


class MVRCTransform(nn.Module):
    """``dense H->H -> activation`` (the original's MVRC transform names)."""

    def __init__(self, hidden: int, act: str) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.act = ACT2FN[act]

    def forward(self, x: Tensor) -> Tensor:
        """(..., H) -> (..., H)."""
        return self.act(self.dense(x))


@MODELS.register_module()
class MVRCHead(BaseVLHead):
    """Predict the detector's class of each masked RoI from its output token.

    Target: the sample's ``gt_rois.labels`` / ``gt_rois.cls_dist`` (given boxes)
    when present, otherwise the detector's class distribution of the box
    on the *unmasked* image (the region encoder must run with ``need_cls_dist=True``).
    Loss: soft cross-entropy ``-sum(p_target * log_softmax(logits))``.

    Args:
        num_classes: classes of the target distribution (mmdet: ``num_classes + 1``,
            background last; original VL-BERT: 1601 Visual Genome classes).
        loss_weight: weight of ``loss_mvrc``.
        **kwargs: the encoder sizes and ``init_cfg`` (:class:`BaseVLHead`).
    """

    def __init__(self, num_classes: int, loss_weight: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.loss_weight = loss_weight
        h = self._required('hidden_size')
        self.transform = MVRCTransform(h, self.hidden_act)
        self.region_cls_pred = nn.Linear(h, self.num_classes)

    def _targets(self, out: VLEncoding, data_samples: List) -> Tensor:
        """(B, R, C) soft targets: sample annotations override the detector's."""
        b, r = out.roi_valid.shape
        # a copy: the detector's distribution also feeds the object tags of this
        # forward, and writing the given labels into it in place breaks its backward
        tgt = None if out.roi_cls_dist is None else out.roi_cls_dist.clone()
        if tgt is not None and tgt.shape[-1] != self.num_classes:
            raise ValueError(f'detector gives {tgt.shape[-1]} classes, MVRCHead expects '
                             f'{self.num_classes}')
        if tgt is None:
            tgt = out.roi_boxes.new_zeros((b, r, self.num_classes))
        for i, s in enumerate(data_samples):
            given, dist, labels = None, roi_field(s, 'cls_dist'), roi_field(s, 'labels')
            if dist is not None:
                given = torch.as_tensor(dist, dtype=tgt.dtype, device=tgt.device)
            elif labels is not None:
                lab = torch.as_tensor(labels, dtype=torch.long, device=tgt.device)
                given = nn.functional.one_hot(lab, self.num_classes).to(tgt.dtype)
            if given is not None and len(given):
                tgt[i, 1:1 + len(given)] = given  # RoI 0 is the whole image
        return tgt

    @staticmethod
    def _selected(out: VLEncoding, data_samples: List) -> Tensor:
        """RoIs to classify: the masked ones plus given RoIs chosen but left visible
        (``gt_rois.mvrc`` of the sample, the original's 10% "unchanged")."""
        sel = out.roi_masked.clone()
        for i, s in enumerate(data_samples):
            mvrc = roi_field(s, 'mvrc')
            if mvrc is not None and len(mvrc):
                mv = torch.as_tensor(mvrc, dtype=torch.bool, device=sel.device)
                sel[i, 1:1 + len(mv)] |= mv
        return sel & out.roi_valid

    def loss(self, out: VLEncoding, data_samples: List) -> Dict[str, Tensor]:
        """``loss_mvrc`` (soft cross-entropy) and ``acc_mvrc`` over the selected RoIs.

        Raises:
            ValueError: selected RoIs without any target, or a detector distribution
                of another class count.
        """
        sel = self._selected(out, data_samples)
        if not sel.any():
            return {}
        tgt = self._targets(out, data_samples)[sel]
        has_tgt = tgt.sum(-1) > 0
        if not has_tgt.any():
            raise ValueError('masked RoIs have no MVRC target: give roi_labels / '
                             'roi_cls_dist in the data or set need_cls_dist=True')
        pos = out.seq.roi_pos[sel][has_tgt]
        bi = sel.nonzero()[:, 0][has_tgt]
        logits = self.region_cls_pred(self.transform(out.seq.hidden[bi, pos]))
        tgt = tgt[has_tgt]
        loss = -(tgt * logits.log_softmax(-1)).sum(-1).mean()
        acc = (logits.argmax(-1) == tgt.argmax(-1)).float().mean()
        return dict(loss_mvrc=self.loss_weight * loss, acc_mvrc=acc.detach())

    def predict(self, out: VLEncoding, data_samples: List) -> None:
        """Class distribution of every RoI (``pred_roi_cls``, (K, C))."""
        probs = self.region_cls_pred(self.transform(out.seq.roi_hidden())).softmax(-1)
        for i, s in enumerate(data_samples):
            s.pred_roi_cls = probs[i, out.roi_valid[i]]
