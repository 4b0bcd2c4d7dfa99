"""Which boxes a :class:`DetectorRegionEncoder` pools (the box-source policy): the
sample's given RoIs, our detector's boxes, a separate proposer's, and which of them are
masked. A mixin, so the encoder's attribute paths and state dict are unchanged."""
from typing import List, Tuple

import torch
from mmengine.structures import InstanceData
from torch import Tensor

from vlbert_e2e.structures import roi_field

from .box_ops import clip_and_fix_boxes, top_box_indices, whole_image_box
from .box_proposer import proposer_class_distribution

BOX_SOURCES = ('given', 'detector', 'given+detector', 'given_or_detector',
               'proposer', 'given+proposer', 'given_or_proposer')
DET_BOXES = ('detections', 'proposals')


class BoxSourceMixin:
    """Box choice of :class:`DetectorRegionEncoder` (reads its ``box_source``,
    ``max_det_boxes``, ``det_score_thr``, ``det_nms_iou``, ``det_boxes``,
    ``det_mask_prob``, ``proposer``, ``min_box_size``, ``whole_image_box``)."""

    def _given_boxes(self, s, like: Tensor) -> Tensor:
        """(K, 4) the sample's given RoIs (none for ``'detector'``/``'proposer'``)."""
        boxes = roi_field(s, 'bboxes')
        if self.box_source in ('detector', 'proposer') or boxes is None:
            return like.new_zeros((0, 4))
        return torch.as_tensor(boxes, dtype=like.dtype, device=like.device).view(-1, 4)

    @staticmethod
    def _given_mask(s, n: int, device) -> Tensor:
        """(n,) bool, which given RoIs have their pixels zeroed (``gt_rois.masked``)."""
        masked = roi_field(s, 'masked')
        if masked is not None and n:
            return torch.as_tensor(masked, dtype=torch.bool, device=device).view(n)
        return torch.zeros(n, dtype=torch.bool, device=device)

    def _uses_other_boxes(self, given: List[Tensor]) -> bool:
        """Whether this batch takes detector / proposer boxes at all."""
        return self.box_source != 'given' and (
            not self.box_source.startswith('given_or_') or any(len(g) == 0 for g in given))

    def _detector_boxes(self, x: Tuple[Tensor, ...], samples, given: List[Tensor]
                        ) -> Tuple[List[Tensor], List[InstanceData]]:
        """Top ``max_det_boxes`` boxes above ``det_score_thr`` per image (none where
        ``given_or_detector`` has given boxes), and the detector's full results (kept so
        prediction does not run the detector twice; their ``is_roi``, ``(n,)`` bool,
        marks the boxes pooled as RoIs); with ``det_boxes='proposals'`` the RPN's
        proposals (scored by objectness)."""
        with torch.no_grad():
            if self.det_boxes == 'proposals':
                results = self.detector.rpn_head.predict(x, samples, rescale=False)
            else:
                results = self.detect(x, samples, rescale=False)
        out = []
        for r, g in zip(results, given):
            idx = top_box_indices(r, self.det_score_thr, self.det_nms_iou,
                                  self.max_det_boxes)
            if self.box_source == 'given_or_detector' and len(g):
                idx = idx[:0]  # this image's given boxes are its RoIs
            r.is_roi = torch.zeros(len(r), dtype=torch.bool, device=r.scores.device)
            r.is_roi[idx] = True
            out.append(r.bboxes[idx].detach())
        return out, results

    @staticmethod
    def _labelled(det: List[Tensor], cls_score: Tensor, counts: List[int]
                  ) -> List[InstanceData]:
        """The pooled detector boxes (the last ``len(det[i])`` RoIs of image ``i``) as
        detections: best foreground class of the box head on this pass, its score."""
        out = []
        for d, scores in zip(det, cls_score.split(counts)):
            probs = scores[len(scores) - len(d):].softmax(-1)[:, :-1]  # background last
            best, label = probs.max(-1)
            out.append(InstanceData(bboxes=d, scores=best, labels=label,
                                    is_roi=torch.ones_like(label, dtype=torch.bool)))
        return out

    def _proposer_boxes(self, samples, given: List[Tensor], imgs: Tensor
                        ) -> Tuple[List[Tensor], List[InstanceData]]:
        """The proposer's boxes on the images that take them (all; with
        ``given_or_proposer`` those without given boxes), and its results."""
        need = [i for i, g in enumerate(given)
                if self.box_source != 'given_or_proposer' or len(g) == 0]
        found = dict(zip(need, self.proposer.propose([samples[i] for i in need],
                                                     imgs.device)))
        none = InstanceData(bboxes=imgs.new_zeros((0, 4)), scores=imgs.new_zeros(0),
                            labels=torch.zeros(0, dtype=torch.long, device=imgs.device))
        results = [found.get(i, none) for i in range(len(samples))]
        return [r.bboxes.to(imgs.dtype) for r in results], results

    def _proposer_cls_dist(self, cls_dist: List[Tensor], results: List[InstanceData]
                           ) -> List[Tensor]:
        """Rows of the proposer's boxes (the last ones of each image) from its own
        (label, score), where its classes are as many as our box head's."""
        n = self.roi_head.bbox_head.num_classes
        if self.proposer.num_classes != n:
            return cls_dist
        out = []
        for d, r in zip(cls_dist, results):
            d = d.clone()
            if len(r):
                d[-len(r):] = proposer_class_distribution(r.labels, r.scores, n).to(d)
            out.append(d)
        return out

    def _choose_det_masks(self, given_mask: Tensor, det: Tensor) -> Tensor:
        """(K + n,) the given masks, then each of the n detector boxes masked with
        probability ``det_mask_prob``."""
        pick = torch.rand(len(det), device=det.device) < self.det_mask_prob
        return torch.cat([given_mask, pick])

    def _image_rois(self, samples, given: List[Tensor], det, masks: List[Tensor]
                    ) -> Tuple[List[Tensor], List[Tensor]]:
        """Per image: (K_i, 4) boxes (whole image first, then given, then detector /
        proposer boxes, clipped) and (K_i,) bool masked flags."""
        boxes, masked = [], []
        for i, s in enumerate(samples):
            b = given[i] if det is None else torch.cat([given[i], det[i]])
            m = torch.cat([masks[i], masks[i].new_zeros(len(b) - len(masks[i]))])
            whole = b.new_tensor([self._whole_box(s)])
            boxes.append(torch.cat([whole, self._clip(b, s)]))
            masked.append(torch.cat([m.new_zeros(1), m]))
        return boxes, masked

    def _whole_box(self, s) -> List[float]:
        hflip = bool(s.get('flip', False)) and s.get('flip_direction') == 'horizontal'
        return whole_image_box(s.img_shape[:2], s.get('ori_shape'), s.get('scale_factor'),
                               hflip, self.whole_image_box)

    def _clip(self, boxes: Tensor, s) -> Tensor:
        return clip_and_fix_boxes(boxes, s.img_shape[:2], self.min_box_size)
