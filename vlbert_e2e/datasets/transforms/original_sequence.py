"""Caption + RoI sequence length as the original VL-BERT's Conceptual Captions dataset
(the ``*-original`` configs).

Ours keeps every given box in file order and caps only the text (``Tokenize``'s
``max_length``). The original (jackroos/VL-BERT,
``pretrain/data/datasets/conceptual_captions.py``) sorts the boxes by their highest
class score and caps text and RoIs *together* at 64, dropping boxes first.
"""
from typing import Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from vlbert_e2e.registry import TRANSFORMS

PER_BOX = ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags', 'roi_labels',
           'roi_cls_dist', 'roi_attributes', 'region_feats')
PER_TOKEN = ('input_ids', 'token_type_ids', 'word_ids', 'mlm_labels')


def original_keep_lengths(text_len: int, n_rois: int, seq_len: int = 64
                          ) -> Tuple[int, int]:
    """``(text tokens, RoIs)`` kept when ``text_len + n_rois > seq_len``, as the original
    computes them (hand-written port): drop a RoI while there are more RoIs than text
    tokens, else a text token; keep at least 2 text tokens and 1 RoI.

    Args:
        text_len: text tokens including ``[CLS]`` and ``[SEP]``.
        n_rois: RoIs including the whole-image box.
        seq_len: the cap (the original: 64).

    Returns:
        ``(t, b)``: text tokens and RoIs to keep, ``t >= 2`` and ``b >= 1`` (so the
        sum may exceed ``seq_len`` when ``seq_len < 3``); unchanged when they fit.
    """
    t, b = text_len, n_rois
    while t + b > seq_len and t > 0 and b > 0:
        if b > t:
            b -= 1
        else:
            t -= 1
    return max(t, 2), max(b, 1)


@TRANSFORMS.register_module()
class SortAndCapRoIsText(BaseTransform):
    """Sort the given boxes by their highest class score (``roi_cls_dist``, highest
    first, as ``np.argsort(max)[::-1]`` orders them) and cap text + RoIs at
    ``seq_len`` with :func:`original_keep_lengths`. The text keeps its first
    ``t - 1`` tokens and its last (``[SEP]``); the boxes their first ``b - 1`` (the
    model's whole-image box counts as one RoI). Place it after ``Tokenize`` and before
    ``MaskText``/``MaskRoIs``.

    Args:
        seq_len: cap on text tokens + RoIs (the original: 64).
        sort_by_score: sort the boxes (needs ``roi_cls_dist``; without it the file
            order is kept).
    """

    def __init__(self, seq_len: int = 64, sort_by_score: bool = True) -> None:
        self.seq_len, self.sort_by_score = seq_len, sort_by_score

    def transform(self, results: dict) -> dict:
        """Sort and cap the sample's boxes and tokens.

        Args:
            results: reads ``gt_bboxes`` (``K`` boxes; absent: ``K = 0``),
                ``roi_cls_dist`` (``(K, C)``, optional) and ``input_ids`` (``(L,)``).

        Returns:
            ``results`` with the per-box keys present (``gt_bboxes``,
            ``gt_bboxes_labels``, ``gt_ignore_flags``, ``roi_labels``,
            ``roi_cls_dist``, ``roi_attributes``, ``region_feats``) cut to the kept
            ``K'`` boxes in the new order, and the per-token keys present (``input_ids``,
            ``token_type_ids``, ``word_ids``, ``mlm_labels``) cut to the kept ``L'``
            tokens as numpy arrays.
        """
        n = len(results['gt_bboxes']) if results.get('gt_bboxes') is not None else 0
        keep = np.arange(n)
        if self.sort_by_score and n and results.get('roi_cls_dist') is not None:
            keep = np.argsort(np.asarray(results['roi_cls_dist']).max(axis=1))[::-1]
        t = len(results['input_ids'])
        t_keep, b_keep = original_keep_lengths(t, n + 1, self.seq_len)
        keep = keep[:b_keep - 1].copy()
        for key in PER_BOX if n else ():
            v = results.get(key)
            if v is not None:
                results[key] = [v[i] for i in keep] if isinstance(v, list) else v[keep]
        tokens = np.r_[np.arange(min(t_keep, t) - 1), t - 1]
        for key in PER_TOKEN:
            if key in results:
                results[key] = np.asarray(results[key])[tokens]
        return results
