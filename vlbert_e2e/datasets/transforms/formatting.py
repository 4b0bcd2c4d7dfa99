"""Pack a pipeline result into (image tensor, VLDataSample)."""
import cv2
import numpy as np
import torch
from mmdet.datasets.transforms import PackDetInputs
from mmengine.structures import InstanceData

from vlbert_e2e.registry import TRANSFORMS
from vlbert_e2e.structures import ROI_FIELDS, TOKEN_PAD_VALUES, VLDataSample

SAMPLE_FIELDS = ('region_feats', 'ori_img')  # ori_img: KeepOriginalImage, for a proposer


def image_to_chw(img: np.ndarray) -> torch.Tensor:
    """HWC image -> contiguous CHW tensor, fast (hand-written: at 600x800 mmdet's
    strided transpose takes ~2.5 ms, and ~7 ms on the negative-stride view that
    ``mmcv.imflip`` returns; ``cv2.flip`` + ``cv2.split`` take ~0.6 ms)."""
    if img.ndim == 2:
        img = img[..., None]
    flip = tuple(ax for ax in (0, 1) if img.strides[ax] < 0)
    unflipped = np.flip(img, flip) if flip else None
    if unflipped is not None and unflipped.flags.c_contiguous:
        # a flipped view of a contiguous image: undo the view's flips (free) and let
        # OpenCV copy them back contiguously; any other layout takes the generic copy
        img = cv2.flip(unflipped, {(0, ): 0, (1, ): 1, (0, 1): -1}[flip])
        img = img[..., None] if img.ndim == 2 else img
    img = np.ascontiguousarray(img)
    chw = np.stack(cv2.split(img)) if 1 < img.shape[2] <= 4 else img.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(chw))


@TRANSFORMS.register_module()
class PackVLInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` (image -> CHW tensor, metainfo, gt instances), plus
    the text fields and the RoI fields of VL-BERT.

    A ``task`` key (``'vqa'``, ``'ground'`` ...) always goes to the metainfo.
    ``gt_bboxes`` are the sample's *given RoIs*: packed with their per-RoI annotations
    (``roi_masked``, ``roi_mvrc``, ``roi_labels``, ``roi_cls_dist``,
    ``roi_attributes``) into one ``gt_rois`` :class:`InstanceData` (``bboxes`` (K, 4),
    ``masked``, ``mvrc``, ``labels``, ``cls_dist``, ``attributes``). They also become
    ``gt_instances`` (detector ground truth for the joint detection loss) when
    ``with_det_gt=True``. A text-only sample (no ``img``) gets ``inputs=None``. The
    per-token fields are those of ``TOKEN_PAD_VALUES``. Extra ``task_keys`` (e.g.
    ``answer_scores``) are copied to the sample as tensors.
    """

    def __init__(self, with_det_gt: bool = False, task_keys=(),
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                            'scale_factor', 'flip', 'flip_direction', 'sample_id',
                            'text')) -> None:
        super().__init__(meta_keys=meta_keys)
        self.with_det_gt = with_det_gt
        self.task_keys = tuple(task_keys)

    def transform(self, results: dict) -> dict:
        """Pack one pipeline result.

        Returns:
            ``dict(inputs=(3, H, W) uint8 tensor or None, data_samples=VLDataSample)``.

        Raises:
            ValueError: per-RoI annotations that do not match the given RoIs.
        """
        has_img = 'img' in results
        for k in self.meta_keys:  # PackDetInputs needs every meta key it is given
            results.setdefault(k, None)
        img = results.pop('img', None)  # packed below, faster than PackDetInputs does
        det = super().transform(results) if has_img else dict(data_samples=None)
        if has_img:
            results['img'] = img
            det['inputs'] = image_to_chw(img)
        sample = VLDataSample(metainfo=det['data_samples'].metainfo
                              if has_img else {k: results[k] for k in self.meta_keys})
        if results.get('task') is not None:  # which head answers (multi-task batches)
            sample.set_metainfo(dict(task=results['task']))
        if has_img and self.with_det_gt:
            sample.gt_instances = det['data_samples'].gt_instances
        rois = self._pack_rois(results)
        if rois is not None:
            sample.gt_rois = rois
        for k in tuple(TOKEN_PAD_VALUES) + SAMPLE_FIELDS + self.task_keys:
            if k in results and results[k] is not None:
                sample.set_field(_as_tensor(results[k]), k)
        return dict(inputs=det.get('inputs'), data_samples=sample)

    @staticmethod
    def _pack_rois(results: dict):
        """``gt_bboxes`` (K, 4) and the per-RoI keys of ``ROI_FIELDS`` as one
        ``InstanceData`` (``None`` when the result has none of them).

        Raises:
            ValueError: a per-RoI field whose length is not K, naming the record.
        """
        rois = InstanceData()
        if 'gt_bboxes' in results:
            boxes = results['gt_bboxes']
            boxes = boxes.tensor if hasattr(boxes, 'tensor') else torch.as_tensor(boxes)
            rois.bboxes = boxes.float().view(-1, 4)
        for key, name in ROI_FIELDS.items():
            if results.get(key) is None:
                continue
            value = _as_tensor(results[key])
            if rois.keys() and len(value) != len(rois):
                raise ValueError(f'{key} has {len(value)} rows for {len(rois)} given RoIs '
                                 f'(img_path={results.get("img_path")!r}, '
                                 f'sample_id={results.get("sample_id")!r})')
            setattr(rois, name, value)
        return rois if rois.keys() else None


def _as_tensor(value) -> torch.Tensor:
    """A pipeline value (list, array, tensor) as a tensor."""
    return torch.as_tensor(np.asarray(value))
