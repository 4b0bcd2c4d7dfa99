"""BoxProposer: the boxes VL-BERT pools, from a separate, frozen MMDetection detector.

The original VL-BERT never detected boxes itself: an external (Visual Genome) detector
supplied them and VL-BERT's own Fast R-CNN trunk pooled their features from the same
pixels. This is that external detector, for any MMDetection model-zoo detector
(two-stage or single-stage), loaded and run exactly as mmdet runs it
(``mmdet.apis.init_detector`` / ``inference_detector``: its own test pipeline resize,
its own ``data_preprocessor`` normalisation, its own test-time NMS), on the *unresized*
image of each sample (``ori_img``, see ``KeepOriginalImage``).
"""
import os
import warnings
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmdet.apis import inference_detector, init_detector
from mmdet.structures.bbox import bbox_flip, scale_boxes
from mmdet.utils import get_test_pipeline_cfg
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmengine.structures import InstanceData
from torch import Tensor

from vlbert_e2e.utils.checkpoint_files import checkpoint_file_problem

from .box_ops import top_boxes


def proposer_class_distribution(labels: Tensor, scores: Tensor, num_classes: int
                                ) -> Tensor:
    """``(K, num_classes + 1)`` MVRC targets from a detector's (label, score) per box:
    ``score`` on the label, ``1 - score`` on the background (last, mmdet's order).

    A detector's output keeps only the winning class and its score, not the whole
    distribution, so this is the distribution that output determines (written by hand:
    neither mmdet nor MMEngine has it)."""
    dist = scores.new_zeros((len(labels), num_classes + 1))
    dist[torch.arange(len(labels), device=labels.device), labels.long()] = scores
    dist[:, -1] += 1 - scores
    return dist


def _check_files(config, checkpoint) -> None:
    if isinstance(config, str) and '::' not in config and not os.path.isfile(config):
        raise FileNotFoundError(f'proposer config file not found: {config}')
    why = checkpoint_file_problem(checkpoint) if checkpoint is not None and (
        '://' not in checkpoint) else None  # missing, a folder, not a checkpoint
    if why:
        raise FileNotFoundError(f'proposer checkpoint {checkpoint}: {why}')


def _load_weights(detector, checkpoint: str, config) -> Optional[Sequence[str]]:
    """``init_detector``'s loading, but strict: a checkpoint that does not fit the
    config must not leave random weights behind a warning (mmengine's default).
    Returns the class names the checkpoint holds, if any."""
    try:
        ckpt = load_checkpoint(detector, checkpoint, map_location='cpu', strict=True)
    except RuntimeError as e:  # mmengine: 'do not match exactly', missing/unexpected keys
        msg = ' '.join(str(e).split())
        raise ValueError(f'proposer checkpoint {checkpoint} does not fit its config '
                         f'{config}: {msg[:300]}') from None
    meta = ckpt.get('meta') or {}  # class names, read as init_detector reads them
    if 'dataset_meta' in meta:
        return {k.lower(): v for k, v in meta['dataset_meta'].items()}.get('classes')
    return meta.get('CLASSES')


class BoxProposer:
    """A frozen mmdet detector that proposes the boxes; VL-BERT pools their features.

    Deliberately *not* an ``nn.Module``: held by the region encoder as a plain
    attribute, the external detector stays out of the VL model's ``state_dict``
    (checkpoints neither carry nor require it, ``strict=True`` loading is unaffected),
    its ``parameters()`` (no optimiser, DDP or EMA sees it), and ``train()`` (it always
    runs in eval mode, under ``torch.no_grad``, in fp32). It follows the device of the
    images it is given; a deep copy of the VL model (EMA) shares it.

    Args:
        config: the detector's mmdet config: a file, ``'mmdet::faster_rcnn/...py'`` or a
            :class:`Config`.
        checkpoint: its weights, a file or a URL, loaded by MMEngine's
            ``load_checkpoint`` as mmdet loads them; class names come from the
            checkpoint's ``meta`` (none there: the class indices). ``None``:
            random weights (tests, timing).
        topk: keep at most this many boxes per image (by score), after NMS.
        nms_iou: class-agnostic NMS IoU threshold applied to the detector's output
            (its own test NMS is per class); ``None`` skips it.
        score_thr: drop boxes scoring below this.
        cfg_options: overrides merged into ``config`` (as ``init_detector`` takes them).

    Raises:
        FileNotFoundError: ``config`` or a local ``checkpoint`` does not exist.
        ValueError: the checkpoint's weights do not fit the config (loading is
            strict, unlike ``init_detector``'s).
    """

    def __init__(self, config: Union[str, Config], checkpoint: Optional[str] = None,
                 topk: int = 36, nms_iou: Optional[float] = 0.5, score_thr: float = 0.2,
                 cfg_options: Optional[dict] = None) -> None:
        _check_files(config, checkpoint)
        self.source = f'{config if isinstance(config, str) else "<Config>"} + {checkpoint}'
        if not isinstance(config, str):
            cfg = config.copy()
        else:  # 'mmdet::...' is a config shipped with mmdet
            cfg = get_config(config) if '::' in config else Config.fromfile(config)
        # the scope switch undoes init_detector's global default scope
        with DefaultScope.overwrite_default_scope('mmdet'):
            with warnings.catch_warnings(record=True) as caught:
                self.detector = init_detector(cfg, None, device='cpu',
                                              cfg_options=cfg_options)
            for w in caught:  # all but its 'checkpoint is None' (weights follow)
                if 'checkpoint is None' not in str(w.message):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            names = None if checkpoint is None else _load_weights(
                self.detector, checkpoint, config)
            pipeline = get_test_pipeline_cfg(self.detector.cfg.copy())
            pipeline[0].type = 'mmdet.LoadImageFromNDArray'  # as inference_detector
            self.pipeline = Compose(pipeline)
        self.detector.requires_grad_(False)
        self.classes = self._class_names(names)
        self.detector.dataset_meta = dict(self.detector.dataset_meta, classes=self.classes)
        self.topk, self.nms_iou, self.score_thr = topk, nms_iou, score_thr

    @property
    def num_classes(self) -> int:
        """Classes of the detector's head (two-stage: its RoI head's (last) box head)."""
        det = self.detector
        head = det.roi_head.bbox_head if hasattr(det, 'roi_head') else det.bbox_head
        return (head[-1] if isinstance(head, torch.nn.ModuleList) else head).num_classes

    def _class_names(self, names: Optional[Sequence[str]]) -> tuple:
        """The checkpoint's class names; index names where it has none for the head
        (mmdet would then assume COCO's, which may not be what the head predicts)."""
        if names is not None and len(names) == self.num_classes:
            return tuple(names)
        MMLogger.get_current_instance().warning(
            f'proposer {self.source}: no class names for its {self.num_classes} classes '
            'in the checkpoint; reporting class indices')
        return tuple(str(i) for i in range(self.num_classes))

    def __deepcopy__(self, memo) -> 'BoxProposer':
        return self  # frozen: copies of the VL model (EMA) share it

    def __repr__(self) -> str:
        return (f'BoxProposer({self.source}, {type(self.detector).__name__}, '
                f'{self.num_classes} classes, topk={self.topk}, nms_iou={self.nms_iou}, '
                f'score_thr={self.score_thr})')

    # ------------------------------------------------------------------ running
    @torch.no_grad()
    def detect(self, images: Sequence[np.ndarray], device: Union[str, torch.device] = 'cpu'
               ) -> List[InstanceData]:
        """The detector's results on raw BGR ``(H, W, 3)`` uint8 images, then score
        threshold, class-agnostic NMS and top-K; boxes in the raw image's pixels."""
        det = self.detector
        if det.data_preprocessor.device != torch.device(device):
            det.to(device)
        det.eval()
        with torch.autocast(torch.device(device).type, enabled=False), \
                DefaultScope.overwrite_default_scope('mmdet'):
            results = inference_detector(det, list(images), test_pipeline=self.pipeline)
        return [top_boxes(InstanceData(bboxes=r.pred_instances.bboxes,
                                       scores=r.pred_instances.scores,
                                       labels=r.pred_instances.labels),
                          self.score_thr, self.nms_iou, self.topk) for r in results]

    def propose(self, samples: Sequence, device: Union[str, torch.device],
                rescale: bool = False) -> List[InstanceData]:
        """:meth:`detect` on each sample's ``ori_img``, boxes mapped onto the sample's
        resized (and flipped) image, as the pipeline mapped its given boxes
        (``rescale=True``: left in the raw image's pixels, as mmdet reports them).

        Raises:
            ValueError: a sample carries no ``ori_img``.
        """
        images = []
        for s in samples:
            if 'ori_img' not in s:
                raise ValueError(
                    'box_source uses a proposer, which needs the unresized image: put '
                    "dict(type='KeepOriginalImage') after the image loader in the "
                    f'pipeline (sample {s.metainfo.get("img_path", "?")} has no ori_img)')
            img = s.ori_img
            images.append(img.cpu().numpy() if torch.is_tensor(img) else np.asarray(img))
        results = self.detect(images, device)
        return results if rescale else [self.to_resized(r, s) for r, s in zip(results, samples)]

    @staticmethod
    def to_resized(r: InstanceData, s) -> InstanceData:
        """Raw-image boxes -> the sample's image (``scale_factor``, then ``flip``)."""
        r = r.clone()
        r.bboxes = scale_boxes(r.bboxes, s.metainfo.get('scale_factor', (1.0, 1.0)))
        if s.metainfo.get('flip'):
            r.bboxes = bbox_flip(r.bboxes, s.img_shape[:2],
                                 s.metainfo.get('flip_direction') or 'horizontal')
        return r
