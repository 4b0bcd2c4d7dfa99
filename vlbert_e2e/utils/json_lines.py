"""Records of a JSON-lines file (MMEngine's json logs, caption manifests), each bad line
named by file and number."""
import json
from typing import Iterator, Tuple


def read_json_lines(path: str) -> Iterator[Tuple[int, dict]]:
    """Yield ``(line number, record)`` for every non-blank line of ``path``.

    Args:
        path: a UTF-8 JSON-lines file.

    Yields:
        ``(1-based line number, the line's JSON object)``.

    Raises:
        ValueError: ``'<path>, line N: not JSON (<why>)'`` or ``'... not a JSON object'``.
        FileNotFoundError: ``path`` does not exist.
    """
    with open(path, encoding='utf-8') as f:
        for no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as e:
                raise ValueError(f'{path}, line {no}: not JSON ({e})') from None
            if not isinstance(rec, dict):
                raise ValueError(f'{path}, line {no}: not a JSON object')
            yield no, rec
