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

    As in the original, consecutive lines of a document are packed into one sample
    until it holds at least ``min_pieces`` word pieces (then it is cut at the
    ``Tokenize`` transform's ``max_length``).

    Args:
        tokenizer: HF fast tokenizer used to count word pieces.
        min_pieces: pack lines until this many pieces (original: 64).
        on_bad_sample: a line that is not UTF-8 raises :class:`BadSampleError` naming
            the file and line (``'raise'``), or is skipped, logged and counted
            (``'skip'``).
    """

    def __init__(self, *args, tokenizer: str, min_pieces: int = 64,
                 on_bad_sample: str = 'raise', **kwargs) -> None:
        self.bad_samples = RecordChecker(on_bad_sample)
        self.tokenizer_name = tokenizer
        self.min_pieces = min_pieces
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
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
