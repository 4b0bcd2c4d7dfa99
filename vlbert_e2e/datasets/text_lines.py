"""Numbered lines of a UTF-8 text file; an undecodable line is named, not a crash."""
from typing import Callable, Iterator, Optional, Tuple

from .transforms.loading import BadSampleError


def read_text_lines(path: str, on_bad: Optional[Callable[[BadSampleError], None]] = None
                    ) -> Iterator[Tuple[int, str]]:
    """Yield ``(line number, line)`` of ``path`` decoded as UTF-8.

    Python's text mode would raise ``UnicodeDecodeError`` with a byte offset and no
    line; here a line that is not UTF-8 becomes a :class:`BadSampleError` naming the
    file and line, raised, or passed to ``on_bad`` (which logs and counts a skip).

    Args:
        path: the file.
        on_bad: called with each undecodable line's error (that line is then left
            out); ``None``: the error is raised.

    Yields:
        ``(1-based line number, line)``, the line with its newline.

    Raises:
        BadSampleError: a line is not UTF-8 and ``on_bad`` is ``None``.
        FileNotFoundError: ``path`` does not exist.
    """
    with open(path, 'rb') as f:
        for i, raw in enumerate(f, 1):
            try:
                yield i, raw.decode('utf-8')
            except UnicodeDecodeError as e:
                err = BadSampleError(f'{path}, line {i}: not UTF-8 ({e.reason} at byte '
                                     f'{e.start})')
                if on_bad is None:
                    raise err from e
                on_bad(err)
