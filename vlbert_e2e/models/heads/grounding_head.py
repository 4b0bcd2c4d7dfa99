"""Referring expressions: score every RoI, BCE with IoU > 0.5 positives."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor, nn

from vlbert_e2e.registry import MODELS

from .base_vl_head import BaseVLHead, classifier_mlp
from .mvrc_head import MVRCTransform


@MODELS.register_module()
class GroundingHead(BaseVLHead):
    """One logit per RoI output (the whole-image box 0 excluded).

    Targets: RoIs whose IoU with the referred box (``gt_boxes[ref_index]`` of the
    sample, in resized-image coordinates) exceeds ``pos_iou`` are positives. Predict:
    the best-scoring RoI, mapped back to the original image (``pred_ref_box``,
    ``pred_ref_score``).

    Args:
        classifier_type: ``'mlp'`` ``Dropout -> Linear(H, H) -> ReLU -> Dropout ->
            Linear(H, 1)``; ``'mvrc'`` the original's RefCOCO+ classifier
            (refcoco/modules/resnet_vlbert_for_refcoco.py, names under ``final_mlp``):
            ``dense H->H -> activation`` (the MVRC head's transform, from which the
            original initialises it) ``-> Dropout -> Linear(H, 1)``.
    """

    CLASSIFIER_TYPES = ('mlp', 'mvrc')

    def __init__(self, pos_iou: float = 0.5, dropout: float = 0.1,
                 loss_weight: float = 1.0, classifier_type: str = 'mlp',
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if classifier_type not in self.CLASSIFIER_TYPES:
            raise ValueError(f'classifier_type must be one of {self.CLASSIFIER_TYPES}, '
                             f'got {classifier_type!r}')
        self.pos_iou, self.dropout, self.loss_weight = pos_iou, dropout, loss_weight
        self.classifier_type = classifier_type
        self.final_mlp = None

    def bind(self, vl_bert) -> None:
        h = vl_bert.hidden_size
        if self.classifier_type == 'mlp':
            self.final_mlp = classifier_mlp(h, h, 1, self.dropout)
        else:
            self.final_mlp = nn.Sequential(MVRCTransform(h, vl_bert.bert.config.hidden_act),
                                           nn.Dropout(self.dropout), nn.Linear(h, 1))

    def _logits(self, out) -> Tensor:
        return self.final_mlp(out.seq.roi_hidden()).squeeze(-1)  # [B, R]

    def _candidates(self, out) -> Tensor:
        valid = out.roi_valid.clone()
        valid[:, 0] = False  # the whole image is never the answer
        return valid

    def loss(self, out, data_samples: List) -> Dict[str, Tensor]:
        rows = [i for i, s in enumerate(data_samples) if 'ref_index' in s]
        if not rows:  # other samples of a multi-task batch refer to nothing
            return {}
        r = torch.as_tensor(rows, device=out.roi_boxes.device)
        logits, valid, boxes = self._logits(out)[r], self._candidates(out)[r], out.roi_boxes[r]
        ref = torch.stack([data_samples[i].gt_boxes[int(data_samples[i].ref_index)]
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

    def predict(self, out, data_samples: List) -> None:
        """Fills samples whose metainfo ``task`` is ``'ground'`` (all when unset)."""
        logits = self._logits(out).masked_fill(~self._candidates(out), float('-inf'))
        score, best = logits.sigmoid().max(-1)
        for i, s in enumerate(data_samples):
            if s.metainfo.get('task', 'ground') != 'ground':
                continue
            box = out.roi_boxes[i, best[i]].clone()
            sx, sy = s.metainfo.get('scale_factor', (1.0, 1.0))
            box /= box.new_tensor([sx, sy, sx, sy])
            s.pred_ref_box, s.pred_ref_score = box, float(score[i])
