"""Keeps credentials out of the logs: access tokens in query strings (a browser's WebSocket cannot send an
Authorization header, so `?token=...` is how it authenticates) are masked in every record the servers log."""

from __future__ import annotations

import logging
import re

SECRET_QUERY = re.compile(r"(?i)([?&](?:token|access_token|auth|key|secret|password)=)[^&\s\"']+")
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "websockets", "engineio", "socketio")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = SECRET_QUERY.sub(r"\1***", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install() -> None:
    """Adds the filter to the loggers that print request lines (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
