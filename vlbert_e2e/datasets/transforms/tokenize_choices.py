"""Tokenise ``[CLS] A [SEP] choice_i [SEP]`` for multiple-choice tasks (VCR)."""
import numpy as np
from mmcv.transforms import BaseTransform

from vlbert_e2e.registry import TRANSFORMS

from .loading import record_name
from .text_encoding import build_tokenizer, encode_text


@TRANSFORMS.register_module()
class TokenizeChoices(BaseTransform):
    """Pre-split words of A (``words_a``, ``word_boxes_a``) and of each choice
    (``choices_words``, ``choices_word_boxes``) -> ``[C, L]`` ``input_ids``,
    ``token_type_ids`` and ``text_box_index`` (each piece inherits its word's RoI),
    through :func:`~.text_encoding.encode_text`: a pair longer than ``max_length`` is
    truncated longest-first (as the original VL-BERT trims question and answer), a
    blank question or choice raises :class:`BadSampleError` naming the record.
    Padding uses the tokenizer's pad id (the preprocessor derives the attention mask
    from it).

    Args:
        tokenizer: HF folder or hub id of a fast tokenizer.
        max_length: the most tokens of each ``[CLS] A [SEP] choice [SEP]``.
    """

    def __init__(self, tokenizer: str, max_length: int = 64) -> None:
        self.tokenizer_name = tokenizer
        self.max_length = max_length

    def transform(self, results: dict) -> dict:
        """Tokenise the question with each of the ``C`` choices.

        Args:
            results: reads ``words_a``, ``word_boxes_a``, ``choices_words`` and
                ``choices_word_boxes`` (words and per word its RoI index, as
                :class:`~vlbert_e2e.datasets.VCRDataset` writes them).

        Returns:
            ``results`` with ``input_ids`` (pad id after each row's end),
            ``token_type_ids`` (0 on A, 1 on the choice, 0 as padding) and
            ``text_box_index`` (the RoI index of each piece's word; 0 on special
            tokens and padding), each a ``(C, L)`` int64 array, ``L`` the longest
            row (``<= max_length``).

        Raises:
            BadSampleError: the question or a choice is blank, naming the record and
                the choice.
            ValueError: ``max_length`` leaves no room for text.
        """
        tok = build_tokenizer(self.tokenizer_name)
        rows = []
        for i, (words, boxes) in enumerate(zip(results['choices_words'],
                                               results['choices_word_boxes'])):
            enc = encode_text(tok, results['words_a'], words, max_length=self.max_length,
                              where=f'{record_name(results)}, choice {i}')
            box_of = (results['word_boxes_a'], boxes)
            rows.append((enc.input_ids, enc.token_type_ids,
                         [0 if w is None else box_of[s][w]
                          for w, s in zip(enc.word_ids, enc.sequence_ids)]))
        length = max(len(r[0]) for r in rows)

        def stack(k, pad):
            return np.array([r[k] + [pad] * (length - len(r[k])) for r in rows], np.int64)

        results['input_ids'] = stack(0, tok.pad_token_id)
        results['token_type_ids'] = stack(1, 0)
        results['text_box_index'] = stack(2, 0)
        return results
