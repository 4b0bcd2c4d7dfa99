"""Plain-text corpus for text-only MLM (BooksCorpus / Wikipedia style)."""
from typing import List

from mmengine.dataset import BaseDataset

from vlbert_e2e.registry import DATASETS

from .transforms.tokenize import build_tokenizer


@DATASETS.register_module()
class TextCorpusDataset(BaseDataset):
    """One sentence or paragraph a line, a blank line between documents.

    As in the original, consecutive lines of a document are packed into one sample
    until it holds at least ``min_pieces`` word pieces (then it is cut at the
    ``Tokenize`` transform's ``max_length``). Undecodable (non-UTF-8) bytes raise an
    error naming the file and line.

    Args:
        tokenizer: HF fast tokenizer used to count word pieces.
        min_pieces: pack lines until this many pieces (original: 64).
    """

    def __init__(self, *args, tokenizer: str, min_pieces: int = 64, **kwargs) -> None:
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

        with open(self.ann_file, 'rb') as f:
            for i, raw in enumerate(f, 1):
                try:
                    line = raw.decode('utf-8').strip()
                except UnicodeDecodeError as e:
                    raise ValueError(f'{self.ann_file}, line {i}: not UTF-8 ({e})') from e
                if not line:
                    flush(i)
                    continue
                cur.append(line)
                n += len(tok.tokenize(line))
                if n >= self.min_pieces:
                    flush(i)
            flush(i if cur else 0)
        return out
