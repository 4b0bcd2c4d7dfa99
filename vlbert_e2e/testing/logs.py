"""Capture what MMEngine's logger says inside a block."""
import logging
from typing import List

from mmengine.logging import MMLogger


class capture_logs:
    """Collect the messages MMEngine's current logger emits inside the block.

    Example:
        >>> with capture_logs() as messages:
        ...     MMLogger.get_current_instance().info('hello')
        >>> 'hello' in messages
        True
    """

    def __enter__(self) -> List[str]:
        self.messages = []
        self.handler = logging.Handler()
        self.handler.emit = lambda rec: self.messages.append(rec.getMessage())
        self.logger = MMLogger.get_current_instance()
        self.logger.addHandler(self.handler)
        return self.messages

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)
