"""The few places that know mmdet's two-stage internals: feature size, RoI pooling
through the shared head / shared FCs, and the steps of ``TwoStageDetector.predict`` and
``.loss`` reused on our own backbone pass. Tested per head type (C4 shared res5 head,
FPN ``ConvFCBBoxHead``)."""
import copy
from contextlib import contextmanager
from typing import Sequence, Tuple

import torch
from mmdet.models.utils.misc import rename_loss_dict, reweight_loss_dict
from mmengine.structures import InstanceData
from torch import Tensor, nn


def roi_align_in_fp32(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: feed RoIAlign fp32 features under autocast (mmcv's kernels
    have no bfloat16, CPU or CUDA); the next autocast layer casts the output back."""
    return tuple(a.float() if torch.is_tensor(a) and a.is_floating_point() else a
                 for a in args)


@contextmanager
def heads_in_fp32(x: Tuple[Tensor, ...]):
    """Run the RPN and RoI head (their NMS) in fp32 under autocast: mmcv's ``nms`` has
    no bfloat16 kernel ("expected scalar type Float but found BFloat16"), and bf16
    autocast is on by default where the CPU has AVX512-BF16/AMX. Yields ``x`` in fp32
    (gradients still flow back through the cast)."""
    with torch.autocast(x[0].device.type, enabled=False):
        yield tuple(f.float() for f in x)


def appearance_channels(roi_head: nn.Module) -> int:
    """Size D of a RoI's appearance feature: the shared head's last block output
    (2048 for R50/101-C4) or the bbox head's shared FC output (1024 for FPN)."""
    if roi_head.with_shared_head:
        block = list(roi_head.shared_head.children())[-1][-1]  # last block of the layer
        return (block.conv3 if hasattr(block, 'conv3') else block.conv2).out_channels
    bh = roi_head.bbox_head
    return bh.shared_out_channels if hasattr(bh, 'shared_out_channels') else bh.in_channels


def _shared_fc_features(bbox_head: nn.Module, feats: Tensor) -> Tensor:
    """(N, D) output of a ``ConvFCBBoxHead``'s shared convs and FCs (its forward stops
    at the class / box logits)."""
    app = feats
    for conv in bbox_head.shared_convs:
        app = conv(app)
    if bbox_head.with_avg_pool:
        app = bbox_head.avg_pool(app)
    app = app.flatten(1)
    for fc in bbox_head.shared_fcs:
        app = bbox_head.relu(fc(app))
    return app


def pool_rois(roi_head: nn.Module, x: Tuple[Tensor, ...], rois: Tensor
              ) -> Tuple[Tensor, Tensor]:
    """Appearance features and class logits of ``rois`` (one RoIAlign call batch-wide).

    C4: RoIAlign -> res5 shared head -> average pool. FPN (``ConvFCBBoxHead``):
    RoIAlign -> the bbox head's shared convs/FCs.

    Args:
        roi_head: an mmdet ``StandardRoIHead``.
        x: the backbone (+ neck) feature maps, (N, C_l, H_l, W_l) each.
        rois: (M, 5) ``(image index, x1, y1, x2, y2)`` (``bbox2roi``).

    Returns:
        ``(features (M, D), class logits (M, C + 1))``.
    """
    feats = roi_head.bbox_roi_extractor(x[:roi_head.bbox_roi_extractor.num_inputs], rois)
    if roi_head.with_shared_head:
        feats = roi_head.shared_head(feats)
    return appearance_and_logits(roi_head, feats)


def appearance_and_logits(roi_head: nn.Module, feats: Tensor) -> Tuple[Tensor, Tensor]:
    """``(features (M, D), class logits (M, C + 1))`` of pooled RoI features ``feats``
    (M, C', h, w), after the shared head when there is one."""
    cls_score, _ = roi_head.bbox_head(feats)
    if roi_head.with_shared_head or not hasattr(roi_head.bbox_head, 'shared_fcs'):
        return feats.mean(dim=(2, 3)), cls_score
    return _shared_fc_features(roi_head.bbox_head, feats), cls_score


@contextmanager
def one_shared_head_pass(roi_head: nn.Module, x: Tuple[Tensor, ...], rows: Tensor,
                         extra_rois: Tensor):
    """While active, the RoI head's ``_bbox_forward`` (which its ``loss`` calls on the
    feature maps of images ``rows``) pools its sampled RoIs *together with*
    ``extra_rois`` (on the feature maps ``x`` of all images) through one RoIAlign and
    one shared-head (res5) call, then splits them. Yields a dict whose ``'feats'`` is
    then the (M, C', h, w) shared-head output of ``extra_rois``.

    Written by hand: mmdet's RoI head pools only its own RoIs. Equal to two separate
    passes up to float rounding when the shared head's BatchNorm is in eval mode (in
    train mode the batch statistics then cover both sets of RoIs).

    Args:
        roi_head: a ``StandardRoIHead`` with a shared head.
        x: the feature maps of all N images.
        rows: (n,) long, the images the loss sees, in its order.
        extra_rois: (M, 5) RoIs on ``x`` (``bbox2roi``).
    """
    out = {}

    def fused(x_rows: Tuple[Tensor, ...], rois: Tensor) -> dict:
        own = torch.cat([rows[rois[:, 0].long()][:, None].to(rois), rois[:, 1:]], 1)
        feats = roi_head.bbox_roi_extractor(x[:roi_head.bbox_roi_extractor.num_inputs],
                                            torch.cat([extra_rois, own]))
        out['feats'], feats = roi_head.shared_head(feats).split([len(extra_rois), len(own)])
        cls_score, bbox_pred = roi_head.bbox_head(feats)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=feats)

    roi_head._bbox_forward = fused  # an instance attribute shadows the method
    try:
        yield out
    finally:
        del roi_head._bbox_forward


def two_stage_predict(detector: nn.Module, x: Tuple[Tensor, ...], samples: Sequence,
                      rescale: bool = False) -> Sequence[InstanceData]:
    """RPN -> RoI head -> NMS on ``x``, exactly as ``TwoStageDetector.predict`` does
    after its backbone (``bboxes`` (n, 4), ``scores`` (n,), ``labels`` (n,) per image)."""
    with heads_in_fp32(x) as x:
        rpn_results = detector.rpn_head.predict(x, samples, rescale=False)
        return detector.roi_head.predict(x, rpn_results, samples, rescale=rescale)


def two_stage_loss(detector: nn.Module, x: Tuple[Tensor, ...], samples: Sequence,
                   weight: float) -> dict:
    """RPN + RCNN losses on ``x`` (the steps of ``TwoStageDetector.loss``, reused on our
    backbone pass), weighted with mmdet's ``reweight_loss_dict`` and prefixed ``det_``
    with its ``rename_loss_dict``.

    Args:
        samples: the samples of ``x``'s rows, each with ``gt_instances``.
        weight: factor of every ``loss`` entry.
    """
    proposal_cfg = detector.train_cfg.get('rpn_proposal', detector.test_cfg.rpn)
    rpn_samples = copy.deepcopy(samples)
    for s in rpn_samples:
        s.gt_instances.labels = torch.zeros_like(s.gt_instances.labels)
    with heads_in_fp32(x) as x:
        rpn_losses, rpn_results = detector.rpn_head.loss_and_predict(
            x, rpn_samples, proposal_cfg=proposal_cfg)
        losses = {k if 'rpn' in k else f'rpn_{k}': v for k, v in rpn_losses.items()}
        losses.update(detector.roi_head.loss(x, rpn_results, samples))
    return rename_loss_dict('det_', reweight_loss_dict(losses, weight))
