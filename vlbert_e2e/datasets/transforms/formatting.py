"""Pack a pipeline result into (image tensor, VLDataSample)."""
import cv2
import numpy as np
import torch
from mmdet.datasets.transforms import PackDetInputs

from vlbert_e2e.registry import TRANSFORMS
from vlbert_e2e.structures import VLDataSample

TOKEN_FIELDS = ('input_ids', 'token_type_ids', 'mlm_labels', 'text_box_index')
SAMPLE_FIELDS = ('roi_masked', 'roi_mvrc', 'roi_labels', 'roi_cls_dist', 'region_feats',
                 'ori_img')  # ori_img: KeepOriginalImage, for a box proposer


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
    ``gt_bboxes`` are the sample's *given RoIs* (packed as ``gt_boxes``). They also
    become ``gt_instances`` (detector ground truth for the joint detection loss) when
    ``with_det_gt=True``. A text-only sample (no ``img``) gets ``inputs=None``.
    Extra ``task_keys`` (e.g. ``answer_scores``) are copied to the sample as tensors.
    """

    def __init__(self, with_det_gt: bool = False, task_keys=(),
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                            'scale_factor', 'flip', 'flip_direction', 'sample_id',
                            'text')) -> None:
        super().__init__(meta_keys=meta_keys)
        self.with_det_gt = with_det_gt
        self.task_keys = tuple(task_keys)

    def transform(self, results: dict) -> dict:
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
        if 'gt_bboxes' in results:
            boxes = results['gt_bboxes']
            boxes = boxes.tensor if hasattr(boxes, 'tensor') else torch.as_tensor(boxes)
            sample.gt_boxes = boxes.float().view(-1, 4)
        for k in TOKEN_FIELDS + SAMPLE_FIELDS + self.task_keys:
            if k in results and results[k] is not None:
                sample.set_field(torch.as_tensor(np.asarray(results[k])), k)
        return dict(inputs=det.get('inputs'), data_samples=sample)
