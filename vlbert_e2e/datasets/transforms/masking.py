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
    no chosen word (short text); its MLM loss is then simply absent. Draws from
    numpy's global generator.

    Args:
        tokenizer: HF folder or hub id of the fast tokenizer of ``Tokenize``.
        prob: probability that a word is chosen.
        mask_ratio: of the chosen words, the fraction whose pieces become the mask id.
        random_ratio: of the chosen words, the fraction whose pieces become random
            ordinary pieces (the rest, ``1 - mask_ratio - random_ratio``, are kept).
    """

    def __init__(self, tokenizer: str, prob: float = 0.15, mask_ratio: float = 0.8,
                 random_ratio: float = 0.1) -> None:
        self.tokenizer_name = tokenizer
        self.prob, self.mask_ratio, self.random_ratio = prob, mask_ratio, random_ratio

    def transform(self, results: dict) -> dict:
        """Choose and mask words.

        Args:
            results: reads ``input_ids`` and ``word_ids`` (``(L,)`` int64 arrays of
                :class:`Tokenize`; ``word_ids`` -1 on special tokens).

        Returns:
            ``results`` with ``input_ids`` replaced by a masked copy (``(L,)`` int64)
            and ``mlm_labels`` (``(L,)`` int64: the original id at every chosen piece,
            -100 elsewhere).
        """
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
    Draws from numpy's global generator.

    Args:
        prob: probability that a RoI is chosen (the original: 0.15).
        mask_ratio: probability that a chosen RoI is also masked (the original: 0.9).
    """

    def __init__(self, prob: float = 0.15, mask_ratio: float = 0.9) -> None:
        self.prob, self.mask_ratio = prob, mask_ratio

    def transform(self, results: dict) -> dict:
        """Choose RoIs.

        Args:
            results: reads ``gt_bboxes`` (``K`` boxes; absent: ``K = 0``).

        Returns:
            ``results`` with ``roi_mvrc`` (``(K,)`` bool: predicted) and
            ``roi_masked`` (``(K,)`` bool: pixels zeroed; a subset of ``roi_mvrc``).
        """
        n = len(results.get('gt_bboxes', []))
        chosen = np.random.rand(n) < self.prob
        results['roi_mvrc'] = chosen
        results['roi_masked'] = chosen & (np.random.rand(n) < self.mask_ratio)
        return results
