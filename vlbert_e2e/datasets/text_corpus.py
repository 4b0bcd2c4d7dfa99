"""Plain-text corpus for text-only MLM (BooksCorpus / Wikipedia style)."""
from typing import List

from mmengine.dataset import BaseDataset

from vlbert_e2e.registry import DATASETS

from .record_checker import RecordChecker
from .text_lines import read_text_lines
from .transforms.text_encoding import build_tokenizer, clean_text


@DATASETS.register_module()
class TextCorpusDataset(BaseDataset):
    """One sentence or paragraph a line, a blank line between documents.

    ``packing='document'`` (ours): consecutive lines of a document are packed into one
    sample until it holds at least ``min_pieces`` word pieces (then it is cut at the
    ``Tokenize`` transform's ``max_length``). ``packing='original'`` (the original
    VL-BERT's ``GeneralCorpus``): one sample per non-empty line, extended with the
    following lines, across documents (blank lines are dropped) and wrapping at the end,
    until it holds at least ``min_pieces`` *words* (BERT's basic tokens, as the original
    counts); built when the sample is read, so the corpus is held once.

    Args:
        ann_file: the UTF-8 text file.
        *args, **kwargs: the other arguments of MMEngine's ``BaseDataset``
            (``data_root``, ``pipeline``, ...).
        tokenizer: HF fast tokenizer used to count word pieces.
        min_pieces: pack lines until this many pieces (original: 64 words).
        packing: ``'document'`` (default) or ``'original'``, see above.
        on_bad_sample: a line that is not UTF-8 raises :class:`BadSampleError` naming
            the file and line (``'raise'``), or is skipped, logged and counted
            (``'skip'``).
    """

    def __init__(self, *args, tokenizer: str, min_pieces: int = 64,
                 packing: str = 'document', on_bad_sample: str = 'raise', **kwargs) -> None:
        if packing not in ('document', 'original'):
            raise ValueError(f"packing must be 'document' or 'original', got {packing!r}")
        self.packing = packing
        self.bad_samples = RecordChecker(on_bad_sample)
        self.tokenizer_name = tokenizer
        self.min_pieces = min_pieces
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """The samples of ``ann_file`` (before the ``'original'`` packing, which
        :meth:`get_data_info` does when a sample is read).

        Returns:
            Dicts with ``text``, ``sample_id`` and ``ann_file``. ``'document'``: the
            cleaned (:func:`clean_text`) lines of one packed sample joined with spaces;
            ``sample_id`` is the 1-based number of the line that closed it (its last
            line, or the blank line after it). ``'original'``: one stripped non-empty
            line each, ``sample_id`` its 1-based line number.

        Raises:
            BadSampleError: with ``on_bad_sample='raise'``, at the first line that is
                not UTF-8 (naming the file and line); under ``'skip'``, when lines were
                skipped and no sample is left.
            FileNotFoundError: ``ann_file`` does not exist.
        """
        if self.packing == 'original':
            out = [dict(text=line.strip(), sample_id=i, ann_file=self.ann_file)
                   for i, line in read_text_lines(self.ann_file, self.bad_samples)
                   if line.strip()]
            self.bad_samples.report(self.ann_file, len(out))
            return out
        tok = build_tokenizer(self.tokenizer_name)
        out, cur, n = [], [], 0

        def flush(line_no):
            nonlocal cur, n
            if cur:
                out.append(dict(text=' '.join(cur), sample_id=line_no,
                                ann_file=self.ann_file))
            cur, n = [], 0

        i = 0
        for i, line in read_text_lines(self.ann_file, self.bad_samples):
            line = clean_text(line).strip()  # blank once cleaned: a document break
            if not line:
                flush(i)
                continue
            cur.append(line)
            n += len(tok.tokenize(line))
            if n >= self.min_pieces:
                flush(i)
        flush(i)
        self.bad_samples.report(self.ann_file, len(out))
        return out

    def get_data_info(self, idx: int) -> dict:
        """The sample ``idx``; with ``packing='original'`` its line joined with the
        following ones (wrapping) until ``min_pieces`` words, at most every line once."""
        info = super().get_data_info(idx)
        if self.packing != 'original':
            return info
        texts = [info['text']]
        n = self._count_words(texts[0])
        for k in range(1, len(self)):
            if n >= self.min_pieces:
                break
            texts.append(super().get_data_info((idx + k) % len(self))['text'])
            n += self._count_words(texts[-1])
        info['text'] = ' '.join(texts)
        return info

    def _count_words(self, text: str) -> int:
        """Words as BERT's basic tokenizer splits them (normalised, then split on
        whitespace and punctuation), by the fast tokenizer's own normaliser and
        pre-tokenizer."""
        tk = build_tokenizer(self.tokenizer_name).backend_tokenizer
        if tk.normalizer is not None:
            text = tk.normalizer.normalize_str(text)
        return len(tk.pre_tokenizer.pre_tokenize_str(text))
