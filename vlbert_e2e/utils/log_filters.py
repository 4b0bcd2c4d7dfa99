"""Hold back MMEngine log lines that report nothing a user chose (written by hand:
``logging`` filters on MMEngine's current logger; MMEngine has no switch for them)."""
import logging
import re
from contextlib import contextmanager
from typing import Iterator, List

from mmengine.logging import MMLogger


class _Drop(logging.Filter):
    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern, self.dropped = re.compile(pattern), []

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if self.pattern.search(msg):
            self.dropped.append(msg)
            return False
        return True


@contextmanager
def held_back_logs(pattern: str, hold: bool = True) -> Iterator[List[str]]:
    """While the block runs, MMEngine's current logger drops the messages matching the
    regular expression ``pattern`` (``re.search``); yields the list they are collected
    in. With ``hold=False`` nothing is dropped (the list stays empty).

    Example:
        >>> with held_back_logs(r'^noise') as dropped:
        ...     MMLogger.get_current_instance().warning('noise: ignore me')
        >>> dropped
        ['noise: ignore me']
    """
    logger, f = MMLogger.get_current_instance(), _Drop(pattern)
    if hold:
        logger.addFilter(f)
    try:
        yield f.dropped
    finally:
        logger.removeFilter(f)
