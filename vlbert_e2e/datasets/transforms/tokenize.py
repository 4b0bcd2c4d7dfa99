"""Tokenisation of ``text`` (+ ``text_b``) with a Hugging Face fast tokenizer."""
import numpy as np
from mmcv.transforms import BaseTransform

from vlbert_e2e.registry import TRANSFORMS

from .loading import record_name
from .text_encoding import build_tokenizer, encode_text

__all__ = ['Tokenize', 'build_tokenizer']


@TRANSFORMS.register_module()
class Tokenize(BaseTransform):
    """``results['text']`` (and optional ``results['text_b']``) -> ``input_ids``,
    ``token_type_ids`` and ``word_ids`` (for whole-word masking; -1 on specials),
    through :func:`~.text_encoding.encode_text`: special-token strings in the text are
    ordinary text, blank text raises :class:`BadSampleError` naming the record, a
    long pair is truncated longest-first.

    Args:
        tokenizer: HF folder or hub id of a fast tokenizer.
        max_length: the most tokens of ``[CLS] A [SEP] (B [SEP])``.
        mask_as_text_b: use a single ``[MASK]`` as segment B (VQA:
            ``[CLS] question [SEP] [MASK] [SEP]``) and record its index as
            ``answer_position``.
        mask_in_text: the tokenizer's mask string in ``text`` is the mask token (the
            inferencer's fill prompts); otherwise it is ordinary text.
        add_special_tokens: ``False`` leaves out ``[CLS]``/``[SEP]`` (the original
            VL-BERT's text-only corpus samples: bare word pieces); ``max_length`` then
            counts word pieces only.
    """

    def __init__(self, tokenizer: str, max_length: int = 64,
                 mask_as_text_b: bool = False, mask_in_text: bool = False,
                 add_special_tokens: bool = True) -> None:
        self.tokenizer_name = tokenizer
        self.max_length = max_length
        self.mask_as_text_b = mask_as_text_b
        self.mask_in_text = mask_in_text
        self.add_special_tokens = add_special_tokens

    def transform(self, results: dict) -> dict:
        """Tokenise the sample's text.

        Args:
            results: reads ``text``, ``text_b`` (optional) and ``sample_id``,
                ``ann_file``, ``img_path`` (optional, to name the record in errors).

        Returns:
            ``results`` with ``input_ids``, ``token_type_ids`` (0 on segment A, 1 from
            segment B on) and ``word_ids`` (word index, unique across A and B; -1 on
            special tokens), each an ``(L,)`` int64 array with ``L <= max_length``;
            with ``mask_as_text_b``, also ``answer_position`` (int, index of the
            ``[MASK]``).

        Raises:
            BadSampleError: ``text`` (or ``text_b``) is empty or blank.
            ValueError: ``max_length`` leaves no room for text.
        """
        tok = build_tokenizer(self.tokenizer_name)
        enc = encode_text(tok, results.get('text'), results.get('text_b'),
                          max_length=self.max_length, b_is_mask=self.mask_as_text_b,
                          keep_mask=self.mask_in_text, where=record_name(results),
                          add_special_tokens=self.add_special_tokens)
        results['input_ids'] = np.asarray(enc.input_ids, dtype=np.int64)
        results['token_type_ids'] = np.asarray(enc.token_type_ids, dtype=np.int64)
        # word ids are per segment; make them unique across A and B
        offset = 1 + max((w for w, s in zip(enc.word_ids, enc.sequence_ids) if s == 0),
                         default=-1)
        results['word_ids'] = np.asarray(
            [-1 if w is None else w + (offset if s == 1 else 0)
             for w, s in zip(enc.word_ids, enc.sequence_ids)], dtype=np.int64)
        if self.mask_as_text_b:
            results['answer_position'] = enc.sequence_ids.index(1)
        return results
