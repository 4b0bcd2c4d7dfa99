"""Tokenisation with a Hugging Face fast tokenizer."""
from functools import lru_cache

import numpy as np
from mmcv.transforms import BaseTransform
from transformers import AutoTokenizer

from vlbert_e2e.registry import TRANSFORMS
from vlbert_e2e.utils.offline_models import resolve_model_path

from .loading import BadSampleError


@lru_cache(maxsize=8)
def build_tokenizer(name_or_path: str):
    """A fast tokenizer from a local HF folder (or a hub id, cached)."""
    tok = AutoTokenizer.from_pretrained(resolve_model_path(name_or_path), use_fast=True)
    if not tok.is_fast:
        raise ValueError(f'{name_or_path}: a fast tokenizer is required (word ids)')
    return tok


@TRANSFORMS.register_module()
class Tokenize(BaseTransform):
    """``results['text']`` (and optional ``results['text_b']``) -> ``input_ids``,
    ``token_type_ids`` and ``word_ids`` (for whole-word masking; -1 on specials).

    Args:
        tokenizer: HF folder or hub id of a fast tokenizer.
        max_length: truncate ``[CLS] A [SEP] (B [SEP])`` to this many pieces (segment
            A is cut first).
        mask_as_text_b: use a single ``[MASK]`` as segment B (VQA:
            ``[CLS] question [SEP] [MASK] [SEP]``) and record its index as
            ``answer_position``.
        add_special_tokens: ``False`` leaves out ``[CLS]``/``[SEP]`` (the original
            VL-BERT's text-only corpus samples: bare word pieces); ``max_length`` then
            counts word pieces only.
    """

    def __init__(self, tokenizer: str, max_length: int = 64,
                 mask_as_text_b: bool = False, add_special_tokens: bool = True) -> None:
        self.tokenizer_name = tokenizer
        self.max_length = max_length
        self.mask_as_text_b = mask_as_text_b
        self.add_special_tokens = add_special_tokens

    def transform(self, results: dict) -> dict:
        text = results.get('text')
        if not isinstance(text, str) or not text.strip():
            raise BadSampleError(
                f'empty or missing text in record {results.get("sample_id", "?")} '
                f'of {results.get("ann_file", "?")}')
        tok = build_tokenizer(self.tokenizer_name)
        text_b = tok.mask_token if self.mask_as_text_b else results.get('text_b')
        enc = tok(text, text_b, truncation='only_first' if text_b else True,
                  max_length=self.max_length, return_token_type_ids=True,
                  add_special_tokens=self.add_special_tokens)
        results['input_ids'] = np.asarray(enc['input_ids'], dtype=np.int64)
        results['token_type_ids'] = np.asarray(enc['token_type_ids'], dtype=np.int64)
        seq_ids = enc.sequence_ids()
        word_ids = enc.word_ids()
        # word ids are per sequence; make them unique across A and B
        offset = 1 + max((w for w, s in zip(word_ids, seq_ids) if s == 0 and w is not None),
                         default=-1)
        results['word_ids'] = np.asarray(
            [-1 if w is None else w + (offset if s == 1 else 0)
             for w, s in zip(word_ids, seq_ids)], dtype=np.int64)
        if self.mask_as_text_b:
            results['answer_position'] = seq_ids.index(1)
        return results
