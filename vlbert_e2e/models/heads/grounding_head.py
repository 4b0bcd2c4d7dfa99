"""Referring expressions: score every RoI, BCE with IoU > 0.5 positives."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor, nn

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import VLEncoding, handled_by, roi_field

from .base_vl_head import BaseVLHead, classifier_mlp, rows_tensor, task_rows
from .mvrc_head import MVRCTransform


@MODELS.register_module()
class GroundingHead(BaseVLHead):
    """One logit per RoI output (the whole-image box 0 excluded).

    Targets: RoIs whose IoU with the referred box (``gt_rois.bboxes[ref_index]`` of the
    sample, in resized-image coordinates) exceeds ``pos_iou`` are positives. Predict:
    the best-scoring RoI, mapped back to the original image (``pred_ref_box``,
    ``pred_ref_score``).

    Args:
        classifier_type: ``'mlp'`` ``Dropout -> Linear(H, H) -> ReLU -> Dropout ->
            Linear(H, 1)``; ``'mvrc'`` the original's RefCOCO+ classifier
            (refcoco/modules/resnet_vlbert_for_refcoco.py, names under ``final_mlp``):
            ``dense H->H -> activation`` (the MVRC head's transform, from which the
            original initialises it) ``-> Dropout -> Linear(H, 1)``.
        **kwargs: the encoder sizes and ``init_cfg`` (:class:`BaseVLHead`).
    """

    CLASSIFIER_TYPES = ('mlp', 'mvrc')

    def __init__(self, pos_iou: float = 0.5, dropout: float = 0.1,
                 loss_weight: float = 1.0, classifier_type: str = 'mlp', **kwargs) -> None:
        super().__init__(**kwargs)
        if classifier_type not in self.CLASSIFIER_TYPES:
            raise ValueError(f'classifier_type must be one of {self.CLASSIFIER_TYPES}, '
                             f'got {classifier_type!r}')
        self.pos_iou, self.dropout, self.loss_weight = pos_iou, dropout, loss_weight
        self.classifier_type = classifier_type
        h = self._required('hidden_size')
        if classifier_type == 'mlp':
            self.final_mlp = classifier_mlp(h, h, 1, dropout)
        else:
            self.final_mlp = nn.Sequential(MVRCTransform(h, self.hidden_act),
                                           nn.Dropout(dropout), nn.Linear(h, 1))

    def _logits(self, out: VLEncoding) -> Tensor:
        return self.final_mlp(out.seq.roi_hidden()).squeeze(-1)  # (B, R)

    def _candidates(self, out: VLEncoding) -> Tensor:
        valid = out.roi_valid.clone()
        valid[:, 0] = False  # the whole image is never the answer
        return valid

    def loss(self, out: VLEncoding, data_samples: List) -> Dict[str, Tensor]:
        """``loss_ground`` (BCE over the candidate RoIs) and ``acc_ground`` (the best
        RoI overlaps the referred box) of the samples with a ``ref_index``."""
        rows = task_rows(data_samples, 'ground', 'ref_index')
        if not rows:  # other samples of a multi-task batch refer to nothing
            return {}
        r = rows_tensor(rows, out.roi_boxes)
        logits, valid, boxes = self._logits(out)[r], self._candidates(out)[r], out.roi_boxes[r]
        ref = torch.stack([roi_field(data_samples[i], 'bboxes')[int(data_samples[i].ref_index)]
                           for i in rows]).to(logits)
        iou = torch.stack([bbox_overlaps(boxes[i], ref[i:i + 1])[:, 0]
                           for i in range(len(ref))])
        target = (iou > self.pos_iou).float()
        if not valid.any():  # e.g. the detector found nothing: no candidate to score
            return dict(loss_ground=logits.sum() * 0)
        loss = F.binary_cross_entropy_with_logits(logits[valid], target[valid])
        best = logits.masked_fill(~valid, float('-inf')).argmax(-1)
        acc = (iou.gather(1, best[:, None]) >= self.pos_iou).float().mean()
        return dict(loss_ground=self.loss_weight * loss, acc_ground=acc.detach())

    def predict(self, out: VLEncoding, data_samples: List) -> None:
        """Fills ``pred_ref_box`` (4,) (original image) and ``pred_ref_score`` of the
        samples whose metainfo ``task`` is ``'ground'`` (all when unset). A sample with
        no candidate RoI (the detector found nothing) gets an empty ``(0, 4)`` box and
        score 0: no region is the answer, not the whole image."""
        candidates = self._candidates(out)
        logits = self._logits(out).masked_fill(~candidates, float('-inf'))
        score, best = logits.sigmoid().max(-1)
        for i, s in enumerate(data_samples):
            if not handled_by(s, 'ground'):
                continue
            if not candidates[i].any():
                s.pred_ref_box, s.pred_ref_score = out.roi_boxes.new_zeros((0, 4)), 0.0
                continue
            box = out.roi_boxes[i, best[i]].clone()
            sx, sy = s.metainfo.get('scale_factor', (1.0, 1.0))
            box /= box.new_tensor([sx, sy, sx, sy])
            s.pred_ref_box, s.pred_ref_score = box, float(score[i])
