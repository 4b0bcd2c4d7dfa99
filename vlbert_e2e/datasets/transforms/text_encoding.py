"""The one place every text passes on its way to token ids (captions, questions,
expressions, VCR's pre-split words, corpus lines, the inferencer's prompts).

- Text is cleaned as BERT's normaliser cleans it (control, format, private-use and
  unassigned characters dropped), for every tokenizer, so a byte-level BPE tokenizer
  sees the same text; text with nothing visible left is *blank* and is refused like
  empty text.
- Special-token strings written in the text (``[SEP]``, ``[MASK]``, ``<s>``, ``<mask>``
  ...) are ordinary text: the tokenizer is built with ``split_special_tokens=True``.
  Special tokens enter a sequence only through the tokenizer's own template
  (``[CLS] A [SEP] B [SEP]``, ``<s> A </s></s> B </s>``) or, where a task asks for it,
  as an id (VQA's answer ``[MASK]``, the fill prompt's blanks).
- A pair longer than ``max_length`` is truncated longest-first.
"""
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple, Union

from tokenizers import Encoding
from transformers import AutoTokenizer

from vlbert_e2e.utils.offline_models import resolve_model_path

from .loading import BadSampleError

Text = Union[str, Sequence[str]]  # a string, or pre-split words (VCR)


@lru_cache(maxsize=8)
def build_tokenizer(name_or_path: str):
    """A fast tokenizer from a local HF folder (or a hub id, cached) that reads
    special-token strings inside a text as ordinary text (``split_special_tokens``).
    Cached: one instance per name in a process.

    Args:
        name_or_path: a local folder, a hub id, or ``'pkg://<alias>'`` (see
            :func:`~vlbert_e2e.utils.resolve_model_path`).

    Returns:
        The ``PreTrainedTokenizerFast``.

    Raises:
        ValueError: the tokenizer is not a fast one (word ids are needed).
    """
    tok = AutoTokenizer.from_pretrained(resolve_model_path(name_or_path), use_fast=True,
                                        split_special_tokens=True)
    if not tok.is_fast:
        raise ValueError(f'{name_or_path}: a fast tokenizer is required (word ids)')
    return tok


def clean_text(text: str) -> str:
    """``text`` without the characters BERT's normaliser drops (Unicode categories
    Cc, Cf, Co, Cs, Cn: control, zero-width/format, private use, surrogates,
    unassigned); tab, newline and carriage return become spaces."""
    return ''.join(' ' if c in '\t\n\r' else c for c in text
                   if c in '\t\n\r' or not unicodedata.category(c).startswith('C'))


def is_blank(text: Optional[str]) -> bool:
    """True for ``None``, non-strings, and text without a visible base character once
    cleaned: only spaces, control, zero-width/format or combining characters (e.g.
    ``''``, ``'   '``, ``'\\u200b\\u200b'``, ``'\\x00\\x07'``)."""
    return not isinstance(text, str) or all(
        unicodedata.category(c)[0] in 'CZM' or c.isspace() for c in text)


@dataclass
class EncodedText:
    """One encoded sequence, all lists of the same length ``L``.

    Attributes:
        input_ids: token ids with the tokenizer's special tokens.
        token_type_ids: 0 up to the special token(s) before segment B, 1 from B on
            (also for RoBERTa, whose own template gives 0 everywhere: VL-BERT's
            segments A and B).
        sequence_ids: 0 (A), 1 (B) or ``None`` (special token) per token.
        word_ids: the index of the word each token comes from, within its segment
            (for pre-split words: the index in the given list); ``None`` on special
            tokens.
    """
    input_ids: List[int]
    token_type_ids: List[int]
    sequence_ids: List[Optional[int]]
    word_ids: List[Optional[int]]


def truncate_longest_first(len_a: int, len_b: int, budget: int) -> Tuple[int, int]:
    """Lengths of A and B once the pair fits ``budget`` tokens: a token is taken from
    the end of the longer one, from A on a tie. This is the original VL-BERT's rule
    (its VCR dataset); HF's ``'longest_first'`` differs by one token on some ties,
    hence written here."""
    while len_a + len_b > budget:
        if len_b > len_a:
            len_b -= 1
        else:
            len_a -= 1
    return len_a, len_b


def _segment(tok, text: Text, keep_mask: bool) -> Tuple[Optional[Encoding], List[int]]:
    """One segment without special tokens (``None`` when blank) and the word index of
    each of its tokens (for pre-split words, the index in ``text``; blank words are
    left out)."""
    if text is None or (not isinstance(text, str) and not isinstance(text, Sequence)):
        return None, []  # no text at all (a record without it): reported as empty
    if not isinstance(text, str):
        kept = [i for i, w in enumerate(text) if w is not None and not is_blank(str(w))]
        if not kept:
            return None, []
        # a space before every word but the first, as inside a sentence (byte-level
        # BPE tokenizers mark it; BERT's ignore it)
        words = [('' if k == 0 else ' ') + clean_text(str(text[i]))
                 for k, i in enumerate(kept)]
        enc = tok(words, is_split_into_words=True, add_special_tokens=False).encodings[0]
        return enc, [kept[w] for w in enc.word_ids]
    if is_blank(text):
        return None, []
    parts = clean_text(text).split(tok.mask_token) if keep_mask else [clean_text(text)]
    encs, words = [], []
    for k, part in enumerate(parts):
        if k:  # a blank of a fill prompt: the mask token itself, a word of its own
            encs.append(_mask_encoding(tok))
        if part.strip():
            encs.append(tok(part, add_special_tokens=False).encodings[0])
    for enc in encs:  # number the words of the parts one after another
        start = max(words, default=-1) + 1
        words += [start + (w or 0) for w in enc.word_ids]
    return (Encoding.merge(encs) if len(encs) > 1 else encs[0]), words


def _mask_encoding(tok) -> Encoding:
    return tok(tok.mask_token, add_special_tokens=False, split_special_tokens=False).encodings[0]


def encode_text(tok, a: Text, b: Optional[Text] = None, *, max_length: int,
                b_is_mask: bool = False, keep_mask: bool = False,
                where: str = 'text', add_special_tokens: bool = True) -> EncodedText:
    """Encode segment ``a`` (and ``b``) in the tokenizer's own template (``[CLS] A
    [SEP] (B [SEP])``, ``<s> A </s>(</s> B </s>)``), truncated longest-first to
    ``max_length`` tokens.

    Args:
        tok: a tokenizer from :func:`build_tokenizer`.
        a, b: a string, or pre-split words (each token keeps its word's index).
        max_length: the most tokens of the whole sequence, special tokens included.
        b_is_mask: segment B is the single mask token (VQA); ``b`` is ignored.
        keep_mask: in a string, the tokenizer's mask string (``[MASK]``, ``<mask>``)
            is the mask token (fill-in-the-blank prompts); elsewhere it is text.
        where: names the record in errors.
        add_special_tokens: ``False``: no template tokens (bare word pieces, as the
            original VL-BERT's text-only corpus samples); ``max_length`` counts pieces.

    Returns:
        The :class:`EncodedText` of the sequence, ``L <= max_length`` tokens.

    Raises:
        BadSampleError: ``a`` or ``b`` is empty or blank, naming ``where``.
        ValueError: ``max_length`` leaves no room for the text.
    """
    seg_a, words_a = _segment(tok, a, keep_mask)
    if seg_a is None or not seg_a.ids:
        raise BadSampleError(f'{where}: empty text (nothing left once cleaned): {a!r}')
    pair = b_is_mask or b is not None
    seg_b, words_b = None, []
    if b_is_mask:
        seg_b, words_b = _mask_encoding(tok), [0]
    elif pair:
        seg_b, words_b = _segment(tok, b, keep_mask)
        if seg_b is None or not seg_b.ids:
            raise BadSampleError(f'{where}: empty second text (nothing left once '
                                 f'cleaned): {b!r}')
    budget = max_length - (tok.num_special_tokens_to_add(pair=pair) if add_special_tokens
                           else 0)
    if budget < (2 if pair else 1):
        raise ValueError(f'max_length {max_length} leaves no room for text')
    n_a, n_b = truncate_longest_first(len(seg_a.ids), len(seg_b.ids) if pair else 0, budget)
    seg_a.truncate(n_a)
    if pair:
        seg_b.truncate(n_b)
    out = tok.backend_tokenizer.post_process(seg_a, seg_b,
                                             add_special_tokens=add_special_tokens)
    # the template's non-special tokens are A's n_a tokens, then B's n_b
    plain = iter([(0, w) for w in words_a[:n_a]] + [(1, w) for w in words_b[:n_b]])
    seq, words = [], []
    for special in out.special_tokens_mask:
        s, w = (None, None) if special else next(plain)
        seq.append(s)
        words.append(w)
    first_b = seq.index(1) if pair else len(seq)
    types = [int(i >= first_b) for i in range(len(seq))]
    return EncodedText(list(out.ids), types, seq, words)
