"""Masking for pretraining: whole-word MLM and masked RoI selection."""
from functools import lru_cache

import numpy as np
from mmcv.transforms import BaseTransform

from vlbert_e2e.registry import TRANSFORMS

from .text_encoding import build_tokenizer


@lru_cache(maxsize=8)
def _ordinary_ids(tokenizer: str) -> np.ndarray:
    """The ids of the tokenizer's vocabulary that are not special tokens."""
    tok = build_tokenizer(tokenizer)
    return np.setdiff1d(np.arange(len(tok)), tok.all_special_ids)


@TRANSFORMS.register_module()
class MaskText(BaseTransform):
    """Whole-word masking: each word is chosen with ``prob``; all its pieces are then
    replaced by [MASK] (``mask_ratio``), by random pieces (``random_ratio``) or kept.
    ``mlm_labels`` holds the original id of every chosen piece and -100 elsewhere.
    Special tokens are never chosen, nor drawn as random pieces. A sample may end with
    no chosen word (short text); its MLM loss is then simply absent.
    """

    def __init__(self, tokenizer: str, prob: float = 0.15, mask_ratio: float = 0.8,
                 random_ratio: float = 0.1) -> None:
        self.tokenizer_name = tokenizer
        self.prob, self.mask_ratio, self.random_ratio = prob, mask_ratio, random_ratio

    def transform(self, results: dict) -> dict:
        tok = build_tokenizer(self.tokenizer_name)
        ids = results['input_ids'].copy()
        words = results['word_ids']
        uniq = np.unique(words[words >= 0])
        labels = np.full_like(ids, -100)
        if len(uniq):
            chosen = uniq[np.random.rand(len(uniq)) < self.prob]
            action = np.random.rand(len(chosen))
            for w, a in zip(chosen, action):
                pos = np.nonzero(words == w)[0]
                labels[pos] = ids[pos]
                if a < self.mask_ratio:
                    ids[pos] = tok.mask_token_id
                elif a < self.mask_ratio + self.random_ratio:
                    ordinary = _ordinary_ids(self.tokenizer_name)
                    ids[pos] = ordinary[np.random.randint(len(ordinary), size=len(pos))]
        results['input_ids'] = ids
        results['mlm_labels'] = labels
        return results


@TRANSFORMS.register_module()
class MaskRoIs(BaseTransform):
    """Choose given RoIs (``gt_bboxes``) for masked RoI classification.

    Each RoI is chosen with ``prob``; a chosen RoI has its pixels zeroed
    (``roi_masked``) with ``mask_ratio``, else it stays visible but is still predicted
    (``roi_mvrc``), as in the original (15% chosen, 90% of those masked). The whole-
    image box is not among the given boxes (the model adds it), so it is never masked.
    """

    def __init__(self, prob: float = 0.15, mask_ratio: float = 0.9) -> None:
        self.prob, self.mask_ratio = prob, mask_ratio

    def transform(self, results: dict) -> dict:
        n = len(results.get('gt_bboxes', []))
        chosen = np.random.rand(n) < self.prob
        results['roi_mvrc'] = chosen
        results['roi_masked'] = chosen & (np.random.rand(n) < self.mask_ratio)
        return results
