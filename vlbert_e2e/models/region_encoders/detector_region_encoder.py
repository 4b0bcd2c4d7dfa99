"""Region encoder: an MMDetection two-stage detector that pools RoI features from pixels.

The detector is *composed* (built from an mmdet config, not subclassed): we call its
backbone, RPN, RoI extractor, shared head and bbox head, so any mmdet Faster R-CNN
(C4 or FPN) and its model-zoo weights work unchanged, and gradients of the VL losses
flow into every unfrozen part of it. Which boxes: :mod:`.box_sources`; mmdet internals:
:mod:`.detector_adapter`.
"""
import copy
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox2roi
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import RegionFeatures, roi_field

from .attribute_head import RoIAttributeHead
from .box_ops import PIXEL_RULES, WHOLE_IMAGE_BOXES, masked_pixel_map
from .box_proposer import BoxProposer
from .box_sources import BOX_SOURCES, DET_BOXES, BoxSourceMixin
from .detector_adapter import (
    appearance_and_logits,
    appearance_channels,
    one_shared_head_pass,
    pool_rois,
    roi_align_in_fp32,
    two_stage_loss,
    two_stage_predict,
)


class _Pass(NamedTuple):
    """The backbone pass of a batch and the boxes chosen around it."""
    x: Tuple[Tensor, ...]              # feature maps of the (masked) images
    x_clean: Optional[Tuple[Tensor, ...]]  # of the unmasked images, when needed
    det: Optional[List[Tensor]]        # detector / proposer boxes per image, (n_i, 4)
    results: Optional[List[InstanceData]]  # their full results
    masks: List[Tensor]                # (K_i + n_i,) masked flags per image
    use_det: bool                      # detector / proposer boxes were taken


@MODELS.register_module()
class DetectorRegionEncoder(BoxSourceMixin, BaseModule):
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
        pixel_rule: which pixels a masked RoI zeroes: ``'outward'`` (ours, floor/ceil)
            or ``'truncate'`` (the original, ``int(x1)..int(x2)``); see
            :func:`masked_pixel_map`.
        min_box_size: smallest box width/height after clipping: 1 (ours) or 0 (the
            original keeps ``x1 == x2``); see :func:`clip_and_fix_boxes`.
        whole_image_box: ``'resized'`` (ours, ``[0, 0, W-1, H-1]``) or
            ``'original_scaled'`` (the original: built on the loaded image, then
            scaled); see :func:`whole_image_box`.
        one_res5_pass: in training with detector losses, pool our RoIs and the
            detector's sampled RoIs through one RoIAlign + shared head (res5) call
            instead of two (:func:`one_shared_head_pass`): faster; the same result
            with eval-mode BatchNorm, with train-mode BatchNorm the statistics cover
            both sets. ``False`` (default): two calls, as mmdet.
        attribute_head: ``dict(num_attributes=A, loss_weight=1.0, detach_input=False,
            feature='appearance')``: an attribute classifier on every RoI
            (:class:`RoIAttributeHead`, BUTD's) reading its appearance feature, or with
            ``feature='pooled'`` its RoIAlign output before the shared head (res4 for
            C4), averaged; its distribution is ``RegionFeatures.attr_dist`` and in
            training it learns from the given RoIs' ``gt_rois.attributes`` (masked RoIs
            excepted), loss ``det_loss_attr``. ``None`` (default): no attributes.

    Raises:
        ValueError: an unknown ``box_source``/``det_boxes``/``pixel_rule``/
            ``whole_image_box``/``attribute_head.feature``, detector boxes without an
            RPN, or proposer boxes without a ``proposer``.
    """

    def __init__(self, detector: dict, box_source: str = 'given',
                 max_det_boxes: int = 36, det_score_thr: float = 0.0,
                 det_loss_weight: float = 0.0, det_mask_prob: float = 0.0,
                 need_cls_dist: bool = False, proposer: Optional[dict] = None,
                 det_boxes: str = 'detections', det_nms_iou: Optional[float] = None,
                 pixel_rule: str = 'outward', min_box_size: float = 1.0,
                 whole_image_box: str = 'resized', one_res5_pass: bool = False,
                 attribute_head: Optional[dict] = None, init_cfg=None) -> None:
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
        self.one_res5_pass = one_res5_pass
        for name, value, allowed in (('pixel_rule', pixel_rule, PIXEL_RULES), (
                'whole_image_box', whole_image_box, WHOLE_IMAGE_BOXES)):
            if value not in allowed:
                raise ValueError(f'{name} must be one of {allowed}, got {value!r}')
        for layer in self.roi_head.bbox_roi_extractor.roi_layers:
            layer.register_forward_pre_hook(roi_align_in_fp32)
        self.attribute_head, self.attribute_feature = None, None
        self._warned_no_attributes = False
        if attribute_head is not None:
            attribute_head = dict(attribute_head)
            self.attribute_feature = attribute_head.pop('feature', 'appearance')
            if self.attribute_feature not in ('appearance', 'pooled'):
                raise ValueError("attribute_head.feature must be 'appearance' or 'pooled', "
                                 f'got {self.attribute_feature!r}')
            channels = (self.out_channels if self.attribute_feature == 'appearance'
                        else self.roi_head.bbox_roi_extractor.out_channels)
            self.attribute_head = RoIAttributeHead(channels, **attribute_head)

    def use_proposer(self, proposer: BoxProposer) -> None:
        """Take the boxes from ``proposer`` instead of our detector from now on:
        ``'given'`` becomes ``'given+proposer'``, ``'*detector'`` ``'*proposer'``."""
        self.proposer = proposer
        self.box_source = ('given+proposer' if self.box_source == 'given'
                           else self.box_source.replace('detector', 'proposer'))

    @property
    def roi_head(self):
        """The detector's RoI head (mmdet ``StandardRoIHead``)."""
        return self.detector.roi_head

    @property
    def out_channels(self) -> int:
        """Size of the appearance feature (2048 for R50/101-C4, 1024 for FPN)."""
        return appearance_channels(self.roi_head)

    # ------------------------------------------------------------------ features
    def extract_feat(self, imgs: Tensor) -> Tuple[Tensor, ...]:
        """Backbone (+ neck) feature maps of (N, 3, H, W) normalised images."""
        return self.detector.extract_feat(imgs)

    def roi_features(self, x: Tuple[Tensor, ...], rois: Tensor) -> Tuple[Tensor, Tensor]:
        """``(features (M, D), class logits (M, C + 1))`` of ``rois`` (M, 5), see
        :func:`pool_rois`."""
        return pool_rois(self.roi_head, x, rois)

    def detect(self, x: Tuple[Tensor, ...], samples: Sequence[DetDataSample],
               rescale: bool = False) -> List[InstanceData]:
        """RPN -> RoI head -> NMS on feature maps ``x``, exactly as
        ``TwoStageDetector.predict`` does (see :func:`two_stage_predict`)."""
        return two_stage_predict(self.detector, x, samples, rescale)

    def det_loss(self, x: Tuple[Tensor, ...], samples: Sequence[DetDataSample]) -> dict:
        """RPN + RCNN losses on ``x``, weighted by ``det_loss_weight`` and prefixed
        ``det_`` (see :func:`two_stage_loss`)."""
        return two_stage_loss(self.detector, x, samples, self.det_loss_weight)

    # ------------------------------------------------------------------ forward
    def forward(self, imgs: Tensor, samples: Sequence[DetDataSample]) -> RegionFeatures:
        """Boxes and their features for a batch of images, in named steps: which boxes
        (given, detector's or proposer's), which pixels (masked RoIs zeroed), one
        backbone pass, pooling.

        Args:
            imgs: (N, 3, H, W) normalised, padded images.
            samples: their N data samples (``img_shape``, optional ``gt_rois``,
                ``gt_instances`` for the detector losses).

        Returns:
            :class:`RegionFeatures` with one entry per image.

        Raises:
            ValueError: ``imgs`` is ``None`` (precomputed-feature samples).
        """
        if imgs is None:
            raise ValueError('DetectorRegionEncoder pools from pixels, but the samples carry '
                             'precomputed region features only: use '
                             'PrecomputedRegionEncoder')
        given = [self._given_boxes(s, imgs) for s in samples]
        masks = [self._given_mask(s, len(b), imgs.device) for s, b in zip(samples, given)]
        p = self._backbone_pass(imgs, samples, given, masks)
        boxes, masked = self._image_rois(samples, given, p.det, p.masks)
        rois, counts = bbox2roi(boxes), [len(b) for b in boxes]
        app, cls_score, det_losses = self._pool_and_det_losses(p.x, samples, rois)
        cls_dist, cls_score = self._class_distribution(p, rois, cls_score, counts)
        results = p.results
        if self.det_boxes == 'proposals' and 'detector' in self.box_source and p.use_det:
            results = self._labelled(p.det, cls_score.detach(), counts)
        attr_dist = None
        if self.attribute_head is not None:
            logits = self.attribute_head(self._attribute_input(p.x, rois, app))
            attr_dist = list(logits.detach().softmax(-1).split(counts))
            if self.training:
                self._warn_once_without_attributes(samples)
                det_losses = dict(det_losses, det_loss_attr=self.attribute_head.loss(
                    logits, self._attribute_targets(samples, masked, logits)))
        img_wh = [imgs.new_tensor([s.img_shape[1], s.img_shape[0]]) for s in samples]
        return RegionFeatures(boxes, list(app.split(counts)), masked, cls_dist, img_wh,
                              det_losses, p.x, results, attr_dist=attr_dist)

    def _warn_once_without_attributes(self, samples) -> None:
        """Log once when a training batch brings no attribute labels at all: the head
        then learns nothing (``det_loss_attr`` 0), most likely because no dataset
        has ``metainfo.attributes``."""
        if self._warned_no_attributes or any(
                roi_field(s, 'attributes') is not None for s in samples):
            return
        self._warned_no_attributes = True
        MMLogger.get_current_instance().warning(
            'attribute_head: a training batch without attribute labels (det_loss_attr is 0 '
            "there); give the datasets metainfo=dict(attributes=...) to train the head")

    def _attribute_input(self, x: Tuple[Tensor, ...], rois: Tensor, app: Tensor) -> Tensor:
        """(M, D') what the attribute head reads: the appearance features ``app``, or
        the RoIAlign output of ``rois`` on ``x`` averaged (``feature='pooled'``)."""
        if self.attribute_feature == 'appearance':
            return app
        ext = self.roi_head.bbox_roi_extractor
        return ext(x[:ext.num_inputs], rois).mean(dim=(2, 3))

    @staticmethod
    def _attribute_targets(samples, masked: List[Tensor], like: Tensor) -> Tensor:
        """(M, A) multi-hot attribute targets of the pooled RoIs: the given RoIs'
        ``gt_rois.attributes`` (rows 1..K of each image, after the whole image), zero
        for every other RoI and for masked ones (their pixels are gone).

        Raises:
            ValueError: a sample's rows are not A wide (naming its image).
        """
        rows = []
        for s, m in zip(samples, masked):
            t = like.new_zeros((len(m), like.shape[-1]))
            given = roi_field(s, 'attributes')
            if given is not None and len(given):
                given = torch.as_tensor(given).to(t).view(len(given), -1)
                if given.shape[1] != t.shape[1]:
                    raise ValueError(f'{s.get("img_path")}: {given.shape[1]} attributes per '
                                     f'given RoI, but attribute_head.num_attributes is '
                                     f'{t.shape[1]}')
                t[1:1 + len(given)] = given
            rows.append(t * (~m)[:, None].to(t))
        return torch.cat(rows)

    def _backbone_pass(self, imgs: Tensor, samples, given: List[Tensor],
                       masks: List[Tensor]) -> _Pass:
        """Choose the detector / proposer boxes and the masked pixels, and run the one
        backbone pass the RoIs are pooled from (plus a no-grad pass on the clean image
        when masked pixels would hide what the detector or the MVRC targets need)."""
        wants_mask = any(bool(m.any()) for m in masks) or (
            self.training and self.det_mask_prob > 0 and self.box_source != 'given')
        use_det = self._uses_other_boxes(given)
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
            x = self.extract_feat(imgs * masked_pixel_map(imgs, pre, masks, self.pixel_rule))
        else:
            x = self.extract_feat(imgs)
        if use_det and det is None:
            det, results = self._detector_boxes(x, samples, given)
        return _Pass(x, x_clean, det, results, masks, use_det)

    def _class_distribution(self, p: _Pass, rois: Tensor, cls_score: Tensor,
                            counts: List[int]) -> Tuple[Optional[List[Tensor]], Tensor]:
        """``(per image (K_i, C + 1) class distribution or None, the class logits of the
        clean pass when there was one, else ``cls_score``)``; the proposer's boxes take
        its own (label, score) where the class counts match."""
        if not self.need_cls_dist:
            return None, cls_score
        if p.x_clean is not None:
            with torch.no_grad():
                _, cls_score = self.roi_features(p.x_clean, rois)
        cls_dist = list(cls_score.detach().softmax(-1).split(counts))
        if 'proposer' in self.box_source and p.results is not None:
            cls_dist = self._proposer_cls_dist(cls_dist, p.results)
        return cls_dist, cls_score

    def _pool_and_det_losses(self, x: Tuple[Tensor, ...], samples, rois: Tensor
                             ) -> Tuple[Tensor, Tensor, dict]:
        """``(features (M, D), class logits (M, C + 1))`` of ``rois`` and the detector's
        own losses on the rows with ``gt_instances`` (training with
        ``det_loss_weight > 0`` only, else ``{}``). With ``one_res5_pass`` and a shared
        head, the RoIs and the detector's sampled RoIs share one res5 call
        (:func:`one_shared_head_pass`)."""
        with_gt = [i for i, s in enumerate(samples) if 'gt_instances' in s]
        if not (self.training and self.det_loss_weight > 0 and with_gt):
            return (*self.roi_features(x, rois), {})
        idx = torch.as_tensor(with_gt, device=x[0].device)
        x_gt, gt_samples = tuple(f[idx] for f in x), [samples[i] for i in with_gt]
        if not (self.one_res5_pass and self.roi_head.with_shared_head):
            app, cls_score = self.roi_features(x, rois)
            return app, cls_score, self.det_loss(x_gt, gt_samples)
        with one_shared_head_pass(self.roi_head, x, idx, rois) as pooled:
            losses = self.det_loss(x_gt, gt_samples)
        return (*appearance_and_logits(self.roi_head, pooled['feats']), losses)
