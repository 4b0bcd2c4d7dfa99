"""VLDataSample: one image-text sample flowing from transforms to metrics."""
from typing import Optional

from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from torch import Tensor

# Per-token fields of a sample and the value that pads them to a batch (``None``: the
# tokenizer's ``pad_token_id``). The one table read by ``PackVLInputs`` (which fields
# to pack) and ``VLDataPreprocessor`` (how to pad them).
TOKEN_PAD_VALUES = {
    'input_ids': None,
    'token_type_ids': 0,
    'mlm_labels': -100,
    'text_box_index': 0,
}

# per-RoI annotation keys of a pipeline result -> their name in ``gt_rois``
ROI_FIELDS = {
    'roi_masked': 'masked',
    'roi_mvrc': 'mvrc',
    'roi_labels': 'labels',
    'roi_cls_dist': 'cls_dist',
    'roi_attributes': 'attributes',
}


def _tensor_property(name: str, doc: str) -> property:
    """A typed data field (``set_field(..., dtype=Tensor)``), as ``DetDataSample``
    declares ``gt_instances``."""
    private = '_' + name

    def fget(self):
        return getattr(self, private)

    def fset(self, value):
        self.set_field(value, private, dtype=Tensor)

    def fdel(self):
        delattr(self, private)
    return property(fget, fset, fdel, doc)


class VLDataSample(DetDataSample):
    """A :class:`mmdet.structures.DetDataSample` plus the text side of VL-BERT.

    Inherits ``gt_instances`` (detector ground truth, used for the joint detection loss)
    and ``pred_instances`` (detections). Declared fields (all optional):

    - ``input_ids`` (LongTensor (L,) or (C, L) with C choices): ``[CLS] A [SEP]
      (B [SEP])`` word-piece ids.
    - ``token_type_ids`` (LongTensor, as ``input_ids``): 0 for segment A, 1 for B.
    - ``mlm_labels`` (LongTensor, as ``input_ids``): original ids of masked pieces,
      -100 elsewhere.
    - ``text_box_index`` (LongTensor, as ``input_ids``): per token, which RoI's visual
      feature is its visual clue (0 = whole image, default); VCR uses the referenced
      object.
    - ``gt_rois`` (:class:`InstanceData`, K given RoIs): ``bboxes`` (K, 4) in the resized
      image (x1, y1, x2, y2), *without* the whole-image box, which the model always
      prepends as box 0; optional ``masked`` (K,) bool (pixels zeroed, MVRC), ``mvrc``
      (K,) bool (chosen for MVRC, masked or not), ``labels`` (K,) or ``cls_dist``
      (K, C) MVRC targets stored in the annotation, ``attributes`` (K, A) multi-hot
      attribute labels (the detector's attribute head; a row of zeros: none).
    - ``region_feats`` (Tensor (K, D)): precomputed appearance features of the given
      RoIs (``LoadRegionFeatures``); such a sample has regions but no pixels.
    - ``ori_img`` (uint8 Tensor (H0, W0, 3), BGR): the image before resizing
      (``KeepOriginalImage``), which a separate box proposer reads.
    - metainfo ``task`` (str, e.g. ``'vqa'``, ``'ground'``): the one key that routes a
      sample to a head (:func:`handled_by`); unset: every head that finds its targets.
    - task targets set by the downstream datasets (``answer_indices``, ``ref_index``
      ...). Predictions are written to ``pred_*`` fields by the heads.
    """

    input_ids = _tensor_property('input_ids', 'Word-piece ids, (L,) or (C, L).')
    token_type_ids = _tensor_property('token_type_ids', 'Segment ids, as input_ids.')
    mlm_labels = _tensor_property('mlm_labels', 'MLM targets (-100: none), as input_ids.')
    text_box_index = _tensor_property('text_box_index', 'Visual-clue RoI per token.')
    region_feats = _tensor_property('region_feats', 'Precomputed RoI features (K, D).')

    @property
    def gt_rois(self) -> InstanceData:
        """The given RoIs and their per-RoI annotations (see the class docstring)."""
        return self._gt_rois

    @gt_rois.setter
    def gt_rois(self, value: InstanceData) -> None:
        """Set ``gt_rois`` (must be an :class:`InstanceData`)."""
        self.set_field(value, '_gt_rois', dtype=InstanceData)

    @gt_rois.deleter
    def gt_rois(self) -> None:
        """Remove ``gt_rois``."""
        del self._gt_rois



def roi_field(sample, name: str) -> Optional[Tensor]:
    """``sample.gt_rois.<name>`` (e.g. ``'bboxes'``, ``'masked'``), ``None`` when the
    sample has no given RoIs or they lack that field."""
    rois = sample.get('gt_rois')
    return None if rois is None or name not in rois else rois.get(name)


def task_of(sample) -> Optional[str]:
    """The metainfo ``task`` of any data sample (``None`` when unset)."""
    return sample.metainfo.get('task')


def handled_by(sample, task: str) -> bool:
    """Whether the head of ``task`` answers ``sample``: its ``task`` is ``task`` or
    unset (single-task batches need no key)."""
    return task_of(sample) in (None, task)
