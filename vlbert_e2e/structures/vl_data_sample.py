"""VLDataSample: one image-text sample flowing from transforms to metrics."""
from mmdet.structures import DetDataSample


class VLDataSample(DetDataSample):
    """A :class:`mmdet.structures.DetDataSample` plus the text side of VL-BERT.

    Inherits ``gt_instances`` (detector ground truth, used for the joint detection loss)
    and ``pred_instances`` (detections). Extra fields, all optional:

    - ``input_ids`` (LongTensor[L]): ``[CLS] A [SEP] (B [SEP])`` word-piece ids.
    - ``token_type_ids`` (LongTensor[L]): 0 for segment A, 1 for segment B.
    - ``mlm_labels`` (LongTensor[L]): original ids of masked pieces, -100 elsewhere.
    - ``text_box_index`` (LongTensor[L]): per token, which RoI's visual feature is its
      visual clue (0 = whole image, default); VCR uses the referenced object.
    - ``gt_boxes`` (Tensor[K, 4]): given RoIs in the resized image (x1, y1, x2, y2),
      *without* the whole-image box, which the model always prepends as box 0.
    - ``roi_masked`` (BoolTensor[K]): given RoIs whose pixels are zeroed (MVRC).
    - ``roi_labels`` (LongTensor[K]) or ``roi_cls_dist`` (Tensor[K, C]): MVRC targets
      stored in the annotation; otherwise the detector's distribution is used.
    - ``region_feats`` (Tensor[K, D]): precomputed appearance features of the given RoIs
      (``LoadRegionFeatures``); such a sample has regions but no pixels.
    - ``ori_img`` (uint8 Tensor[H0, W0, 3], BGR): the image before resizing
      (``KeepOriginalImage``), which a separate box proposer reads.
    - task targets set by the downstream datasets (``answer_scores``, ``ref_box`` ...).
    Predictions are written to ``pred_*`` fields by the heads.
    """
