"""Region encoder: an MMDetection two-stage detector that pools RoI features from pixels.

The detector is *composed* (built from an mmdet config, not subclassed): we call its
backbone, RPN, RoI extractor, shared head and bbox head, so any mmdet Faster R-CNN
(C4 or FPN) and its model-zoo weights work unchanged, and gradients of the VL losses
flow into every unfrozen part of it.
"""
import copy
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox2roi
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor

from vlbert_e2e.registry import MODELS

from .box_ops import (
    PIXEL_RULES,
    WHOLE_IMAGE_BOXES,
    clip_and_fix_boxes,
    masked_pixel_map,
    top_boxes,
    whole_image_box,
)
from .box_proposer import BoxProposer, proposer_class_distribution

BOX_SOURCES = ('given', 'detector', 'given+detector', 'given_or_detector',
               'proposer', 'given+proposer', 'given_or_proposer')
DET_BOXES = ('detections', 'proposals')


def _roi_align_in_fp32(module, args):
    """Feed RoIAlign fp32 features under autocast: mmcv's kernels have no bfloat16
    (CPU or CUDA); the pooled output is cast back by the next autocast layer."""
    return tuple(a.float() if torch.is_tensor(a) and a.is_floating_point() else a
                 for a in args)


@contextmanager
def _heads_in_fp32(x: Tuple[Tensor, ...]):
    """Run the RPN and RoI head (their NMS) in fp32 under autocast: mmcv's ``nms`` has
    no bfloat16 kernel ("expected scalar type Float but found BFloat16"), and bf16
    autocast is on by default where the CPU has AVX512-BF16/AMX. Yields ``x`` in fp32
    (gradients still flow back through the cast)."""
    with torch.autocast(x[0].device.type, enabled=False):
        yield tuple(f.float() for f in x)


@dataclass
class RegionOutput:
    """What the region encoder hands to the VL part (all per image, box 0 = image)."""
    boxes: List[Tensor]           # [K_i, 4] boxes in the resized image (detached)
    feats: List[Tensor]           # [K_i, D] appearance features
    masked: List[Tensor]          # [K_i] bool, RoIs whose pixels were zeroed
    cls_dist: Optional[List[Tensor]]  # [K_i, C+1] detector class distribution, unmasked
    img_wh: List[Tensor]          # [2] width, height of the resized image
    det_losses: Dict[str, Tensor]
    feature_maps: Tuple[Tensor, ...] = ()  # the backbone (+neck) outputs of this pass
    # the detector's own results on this pass (resized-image coordinates), when it ran;
    # with det_boxes='proposals' the pooled proposals, with a proposer its boxes
    detections: Optional[List[InstanceData]] = None
    # after ``take``: the row of ``feature_maps`` each entry comes from
    map_rows: Optional[List[int]] = None

    def take(self, index: List[int]) -> 'RegionOutput':
        """The outputs of images ``index`` (repeats allowed: one image shared by several
        samples); the detector losses stay as they are, and the feature maps are not
        copied (``row_feature_maps`` gathers them when needed)."""
        if list(index) == list(range(len(self.boxes))):
            return self

        def pick(xs):
            return None if xs is None else [xs[i] for i in index]
        rows = index if self.map_rows is None else [self.map_rows[i] for i in index]
        return RegionOutput(pick(self.boxes), pick(self.feats), pick(self.masked),
                            pick(self.cls_dist), pick(self.img_wh), self.det_losses,
                            self.feature_maps, pick(self.detections), list(rows))

    def row_feature_maps(self) -> Tuple[Tensor, ...]:
        """The feature maps with one row per entry (gathered after ``take``)."""
        if self.map_rows is None:
            return self.feature_maps
        idx = torch.as_tensor(self.map_rows, device=self.feature_maps[0].device)
        return tuple(f[idx] for f in self.feature_maps)


@MODELS.register_module()
class DetectorRegionEncoder(BaseModule):
    """Pool VL-BERT's visual tokens from an mmdet two-stage detector.

    Args:
        detector: mmdet detector config, e.g. ``dict(_scope_='mmdet',
            type='FasterRCNN', ...)`` (``_scope_`` defaults to ``'mmdet'``); its
            ``data_preprocessor`` is ignored (the VL model has its own).
        box_source: ``'given'`` (boxes from the sample), ``'detector'`` (RPN -> RoI
            head -> NMS on this image, top ``max_det_boxes`` by score, detached),
            ``'given+detector'`` (both) or ``'given_or_detector'`` (the sample's boxes
            when it has any, else the detector's: annotated boxes in training, like the
            original's pre-computed ones, with no detector inference pass there, and
            what the detector finds at test time). ``'proposer'``,
            ``'given+proposer'``, ``'given_or_proposer'``: the same with the boxes of
            the separate ``proposer`` instead of our detector's. Box 0 is always the
            whole image.
        max_det_boxes: at most this many detector boxes per image.
        det_score_thr: drop detections below this score.
        det_boxes: which boxes of our detector: ``'detections'`` (RPN -> RoI head on
            every proposal -> regressed boxes -> per-class NMS, as mmdet predicts; then
            a second RoI pass pools the chosen ones) or ``'proposals'`` (the RPN's
            proposals by objectness, after its own NMS: the RoI head then runs once,
            on the pooled boxes only; their class distribution and the reported
            detections, labelled by the box head, come from that same pass).
        det_nms_iou: class-agnostic NMS on our detector's boxes before the top
            ``max_det_boxes`` are taken; ``None``: none (mmdet's own NMS only).
        det_loss_weight: weight of the detector's own RPN + RCNN losses (keys
            prefixed ``det_``) on the samples that carry ``gt_instances``; 0 disables.
        det_mask_prob: for ``detector`` boxes in training, chance that a box is
            chosen for masked RoI classification (its pixels zeroed); 0 disables.
            Given boxes are masked by the pipeline (``roi_masked`` of the sample).
        need_cls_dist: compute the detector's class distribution on the unmasked
            image for every box (MVRC targets). Costs an extra no-grad backbone pass
            when pixels are masked. The proposer's boxes take the proposer's
            (label, score) instead (:func:`proposer_class_distribution`) when its
            classes are as many as our box head's.
        proposer: ``dict(config=..., checkpoint=..., topk=36, nms_iou=0.5,
            score_thr=0.2)``: a separate, frozen mmdet detector (any model-zoo
            detector, two- or single-stage) whose boxes our trunk pools, see
            :class:`BoxProposer`. It is not part of this module's state dict.
            when pixels are masked.
        pixel_rule: which pixels a masked RoI zeroes: ``'outward'`` (ours, floor/ceil)
            or ``'truncate'`` (the original, ``int(x1)..int(x2)``); see
            :func:`masked_pixel_map`.
        min_box_size: smallest box width/height after clipping: 1 (ours) or 0 (the
            original keeps ``x1 == x2``); see :func:`clip_and_fix_boxes`.
        whole_image_box: ``'resized'`` (ours, ``[0, 0, W-1, H-1]``) or
            ``'original_scaled'`` (the original: built on the loaded image, then
            scaled); see :func:`whole_image_box`.
    """

    def __init__(self, detector: dict, box_source: str = 'given',
                 max_det_boxes: int = 36, det_score_thr: float = 0.0,
                 det_loss_weight: float = 0.0, det_mask_prob: float = 0.0,
                 need_cls_dist: bool = False, proposer: Optional[dict] = None,
                 det_boxes: str = 'detections', det_nms_iou: Optional[float] = None,
                 pixel_rule: str = 'outward', min_box_size: float = 1.0,
                 whole_image_box: str = 'resized',
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if box_source not in BOX_SOURCES:
            raise ValueError(f'box_source must be one of {BOX_SOURCES}, got {box_source!r}')
        detector = copy.deepcopy(detector)
        detector.pop('data_preprocessor', None)
        detector.setdefault('_scope_', 'mmdet')  # a plain mmdet model dict works as is
        self.detector = MODELS.build(detector)
        if not getattr(self.detector, 'with_rpn', False) and 'detector' in box_source:
            raise ValueError('box_source needs an RPN for detector boxes')
        if det_boxes not in DET_BOXES:
            raise ValueError(f'det_boxes must be one of {DET_BOXES}, got {det_boxes!r}')
        self.det_boxes, self.det_nms_iou = det_boxes, det_nms_iou
        # a plain attribute, not a submodule: not in the state dict (see BoxProposer)
        self.proposer = None if proposer is None else BoxProposer(**proposer)
        if 'proposer' in box_source and self.proposer is None:
            raise ValueError(f'box_source={box_source!r} needs proposer=dict(config=..., '
                             'checkpoint=...)')
        self.box_source = box_source
        self.max_det_boxes = max_det_boxes
        self.det_score_thr = det_score_thr
        self.det_loss_weight = det_loss_weight
        self.det_mask_prob = det_mask_prob
        self.need_cls_dist = need_cls_dist
        self.pixel_rule, self.min_box_size = pixel_rule, min_box_size
        self.whole_image_box = whole_image_box
        for name, value, allowed in (('pixel_rule', pixel_rule, PIXEL_RULES), (
                'whole_image_box', whole_image_box, WHOLE_IMAGE_BOXES)):
            if value not in allowed:
                raise ValueError(f'{name} must be one of {allowed}, got {value!r}')
        for layer in self.roi_head.bbox_roi_extractor.roi_layers:
            layer.register_forward_pre_hook(_roi_align_in_fp32)

    def use_proposer(self, proposer: BoxProposer) -> None:
        """Take the boxes from ``proposer`` instead of our detector from now on:
        ``'given'`` becomes ``'given+proposer'``, ``'*detector'`` ``'*proposer'``."""
        self.proposer = proposer
        self.box_source = ('given+proposer' if self.box_source == 'given'
                           else self.box_source.replace('detector', 'proposer'))

    @property
    def roi_head(self):
        return self.detector.roi_head

    @property
    def out_channels(self) -> int:
        """Size of the appearance feature (2048 for R50/101-C4, 1024 for FPN)."""
        head = self.roi_head
        if head.with_shared_head:
            block = list(head.shared_head.children())[-1][-1]  # last block of the res layer
            return (block.conv3 if hasattr(block, 'conv3') else block.conv2).out_channels
        bh = head.bbox_head
        return bh.shared_out_channels if hasattr(bh, 'shared_out_channels') else bh.in_channels

    # ------------------------------------------------------------------ features
    def extract_feat(self, imgs: Tensor) -> Tuple[Tensor, ...]:
        return self.detector.extract_feat(imgs)

    def roi_features(self, x: Tuple[Tensor, ...], rois: Tensor) -> Tuple[Tensor, Tensor]:
        """Appearance features and class logits of ``rois`` (one RoIAlign call batch-wide).

        C4: RoIAlign -> res5 shared head -> average pool. FPN (``ConvFCBBoxHead``):
        RoIAlign -> the bbox head's shared convs/FCs.
        """
        head = self.roi_head
        feats = head.bbox_roi_extractor(x[:head.bbox_roi_extractor.num_inputs], rois)
        if head.with_shared_head:
            feats = head.shared_head(feats)
        cls_score, _ = head.bbox_head(feats)
        if head.with_shared_head or not hasattr(head.bbox_head, 'shared_fcs'):
            app = feats.mean(dim=(2, 3))
        else:
            bh = head.bbox_head
            app = feats
            for conv in bh.shared_convs:
                app = conv(app)
            if bh.with_avg_pool:
                app = bh.avg_pool(app)
            app = app.flatten(1)
            for fc in bh.shared_fcs:
                app = bh.relu(fc(app))
        return app, cls_score

    def detect(self, x: Tuple[Tensor, ...], samples: Sequence[DetDataSample],
               rescale: bool = False) -> List[InstanceData]:
        """RPN -> RoI head -> NMS, exactly as ``TwoStageDetector.predict`` does."""
        with _heads_in_fp32(x) as x:
            rpn_results = self.detector.rpn_head.predict(x, samples, rescale=False)
            return self.roi_head.predict(x, rpn_results, samples, rescale=rescale)

    def det_loss(self, x: Tuple[Tensor, ...], samples: Sequence[DetDataSample]) -> dict:
        """RPN + RCNN losses on ``x`` (the steps of ``TwoStageDetector.loss``, reused
        on our backbone pass), weighted and prefixed ``det_``."""
        det = self.detector
        proposal_cfg = det.train_cfg.get('rpn_proposal', det.test_cfg.rpn)
        rpn_samples = copy.deepcopy(samples)
        for s in rpn_samples:
            s.gt_instances.labels = torch.zeros_like(s.gt_instances.labels)
        with _heads_in_fp32(x) as x:
            rpn_losses, rpn_results = det.rpn_head.loss_and_predict(
                x, rpn_samples, proposal_cfg=proposal_cfg)
            losses = {k if 'rpn' in k else f'rpn_{k}': v for k, v in rpn_losses.items()}
            losses.update(self.roi_head.loss(x, rpn_results, samples))
        out = {}
        for k, v in losses.items():
            if 'loss' in k:
                v = [t * self.det_loss_weight for t in v] if isinstance(v, list) \
                    else v * self.det_loss_weight
            out[f'det_{k}'] = v
        return out

    # ------------------------------------------------------------------ forward
    def forward(self, imgs: Tensor, samples: Sequence[DetDataSample]) -> RegionOutput:
        """Boxes and their features for a batch of normalised, padded images."""
        if imgs is None:
            raise ValueError('DetectorRegionEncoder pools from pixels, but the samples carry '
                             'precomputed region features only: use '
                             'PrecomputedRegionEncoder')
        img_wh = [imgs.new_tensor([s.img_shape[1], s.img_shape[0]]) for s in samples]
        given = [self._given_boxes(s, imgs) for s in samples]
        masks = [self._given_mask(s, len(b), imgs.device) for s, b in zip(samples, given)]
        wants_mask = any(bool(m.any()) for m in masks) or (
            self.training and self.det_mask_prob > 0 and self.box_source != 'given')

        use_det = self.box_source != 'given' and (
            not self.box_source.startswith('given_or_') or any(len(g) == 0 for g in given))
        x_clean, det, results = None, None, None
        if use_det and 'proposer' in self.box_source:  # no pass of our detector needed
            det, results = self._proposer_boxes(samples, given, imgs)
        if wants_mask and (self.need_cls_dist or (use_det and det is None)):
            with torch.no_grad():  # the unmasked image: MVRC targets + detector boxes
                x_clean = self.extract_feat(imgs)
            if use_det:
                det, results = self._detector_boxes(x_clean, samples, given)
        if wants_mask:
            if det is not None:
                masks = [self._choose_det_masks(m, d) for m, d in zip(masks, det)]
            pre = [self._clip(g if det is None else torch.cat([g, det[i]]), samples[i])
                   for i, g in enumerate(given)]
            x = self.extract_feat(
                imgs * masked_pixel_map(imgs, pre, masks, self.pixel_rule))
        else:
            x = self.extract_feat(imgs)
        if use_det and det is None:
            det, results = self._detector_boxes(x, samples, given)

        boxes, masked = [], []
        for i, s in enumerate(samples):
            b = given[i] if det is None else torch.cat([given[i], det[i]])
            m = torch.cat([masks[i], masks[i].new_zeros(len(b) - len(masks[i]))])
            whole = b.new_tensor([self._whole_box(s)])
            boxes.append(torch.cat([whole, self._clip(b, s)]))
            masked.append(torch.cat([m.new_zeros(1), m]))
        rois = bbox2roi(boxes)
        app, cls_score = self.roi_features(x, rois)
        counts = [len(b) for b in boxes]
        cls_dist = None
        if self.need_cls_dist:
            if x_clean is not None:
                with torch.no_grad():
                    _, cls_score = self.roi_features(x_clean, rois)
            cls_dist = list(cls_score.detach().softmax(-1).split(counts))
            if 'proposer' in self.box_source and results is not None:
                cls_dist = self._proposer_cls_dist(cls_dist, results)
        if self.det_boxes == 'proposals' and 'detector' in self.box_source and use_det:
            results = self._labelled(det, cls_score.detach(), counts)
        det_losses = {}
        with_gt = [i for i, s in enumerate(samples) if 'gt_instances' in s]
        if self.training and self.det_loss_weight > 0 and with_gt:
            idx = torch.as_tensor(with_gt, device=imgs.device)
            det_losses = self.det_loss(tuple(f[idx] for f in x), [samples[i] for i in with_gt])
        return RegionOutput(boxes, list(app.split(counts)), masked, cls_dist, img_wh,
                            det_losses, x, results)

    # ------------------------------------------------------------------ boxes
    def _given_boxes(self, s: DetDataSample, imgs: Tensor) -> Tensor:
        if self.box_source in ('detector', 'proposer') or 'gt_boxes' not in s:
            return imgs.new_zeros((0, 4))
        return torch.as_tensor(s.gt_boxes, dtype=imgs.dtype, device=imgs.device).view(-1, 4)

    def _given_mask(self, s: DetDataSample, n: int, device) -> Tensor:
        if 'roi_masked' in s and n:
            return torch.as_tensor(s.roi_masked, dtype=torch.bool, device=device).view(n)
        return torch.zeros(n, dtype=torch.bool, device=device)

    def _detector_boxes(self, x: Tuple[Tensor, ...], samples, given: List[Tensor]
                        ) -> Tuple[List[Tensor], List[InstanceData]]:
        """Top ``max_det_boxes`` boxes above ``det_score_thr`` per image (none where
        ``given_or_detector`` has given boxes), and the detector's full results (kept so
        prediction does not run the detector twice); with ``det_boxes='proposals'``
        the RPN's proposals (scored by objectness)."""
        with torch.no_grad():
            if self.det_boxes == 'proposals':
                results = self.detector.rpn_head.predict(x, samples, rescale=False)
            else:
                results = self.detect(x, samples, rescale=False)
        out = [top_boxes(r, self.det_score_thr, self.det_nms_iou, self.max_det_boxes
                         ).bboxes.detach() for r in results]
        if self.box_source == 'given_or_detector':
            out = [d[:0] if len(g) else d for g, d in zip(given, out)]
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
            out.append(InstanceData(bboxes=d, scores=best, labels=label))
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
        pick = torch.rand(len(det), device=det.device) < self.det_mask_prob
        return torch.cat([given_mask, pick])

    def _whole_box(self, s: DetDataSample) -> List[float]:
        hflip = bool(s.get('flip', False)) and s.get('flip_direction') == 'horizontal'
        return whole_image_box(s.img_shape[:2], s.get('ori_shape'), s.get('scale_factor'),
                               hflip, self.whole_image_box)

    def _clip(self, boxes: Tensor, s: DetDataSample) -> Tensor:
        return clip_and_fix_boxes(boxes, s.img_shape[:2], self.min_box_size)
