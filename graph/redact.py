"""Redaction of person data in log records: ID numbers and phone numbers never reach a
log in clear, whatever code path formatted them (zavod's RedactingProcessor, as a
stdlib logging filter)."""

from __future__ import annotations

import logging
import re

_ID = re.compile(r"(?<!\d)(\d{4})\d{10}(\d{3}[\dXx])(?!\d)")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def redact(text: str) -> str:
    """Mask 18-character ID numbers and 11-digit mobile numbers inside free text."""
    return _PHONE.sub(r"\1****\2", _ID.sub(r"\1**********\2", text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def install() -> None:
    """Attach the filter to every handler of the root logger (call once at start-up)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
