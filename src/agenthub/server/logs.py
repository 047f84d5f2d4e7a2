"""The server's logs: text or JSON lines (`AGENTHUB_LOG_FORMAT`), set up once by `agenthub serve`, with
uvicorn's loggers following the same format; and `EngineLog`, the engine observer that writes one line per
job transition and per agent connect/disconnect.

Credentials never reach the output: every line passes `log_redaction` (tokens in query strings) and the
bearer/secret masks below, in both formats, including the structured fields of a JSON line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from agenthub.core.jobs import Change
from agenthub.core.nodes import AgentNode
from agenthub.core.ports import EngineObserver
from agenthub.server.log_redaction import SECRET_QUERY, RedactSecrets

JOBS = logging.getLogger("agenthub.jobs")
AGENTS = logging.getLogger("agenthub.agents")
FIELDS = "agenthub_fields"  # the LogRecord attribute that carries a line's structured fields
# Events that are not transitions of the job's state: logged at DEBUG so a busy fleet's log stays readable.
QUIET_EVENTS = frozenset({"heartbeat", "progress"})
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_SECRET_PAIR = re.compile(
    r"(?i)((?:token|access_token|secret|password|api_key|admin_key)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"
)


def redact(text: str) -> str:
    """Masks tokens and secrets in a piece of log text."""
    text = SECRET_QUERY.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    return _SECRET_PAIR.sub(r"\1***", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the line's structured fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in (getattr(record, FIELDS, None) or {}).items():
            line[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class ServerHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler `configure` installs on the root logger."""


def configure(log_format: str, level: str, *, stream: TextIO | None = None) -> logging.Handler:
    """Sends every log record (agenthub's and uvicorn's) to one handler in the chosen format."""
    handler = ServerHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    adopt_uvicorn()
    return handler


def adopt_uvicorn() -> None:
    """Once `configure` ran: uvicorn's loggers lose the handlers each `uvicorn.Config` gives them and
    propagate to ours, so they follow the chosen format. Without `configure` (tests), nothing changes."""
    if not any(isinstance(h, ServerHandler) for h in logging.getLogger().handlers):
        return
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True


class EngineLog:
    """The engine observer that logs: a line per job event, a line when an agent connects or goes."""

    def __init__(self) -> None:
        self._online: set[tuple[str, str]] = set()  # nodes this process has logged as connected

    def job_changed(self, change: Change) -> None:
        event = change.event
        if event is None:
            return
        job = change.job
        level = logging.DEBUG if event.type in QUIET_EVENTS else logging.INFO
        if not JOBS.isEnabledFor(level):
            return
        fields = {
            "job_id": job.id,
            "kind": job.kind,
            "type": job.type,
            "event": event.type,
            "status": job.status.value,
            "node": event.node_id,
            "attempts": job.attempts,
            "max_attempts": job.max_attempts,
            "reason": event.message,
            "error_code": event.error_code,
            "external_id": job.external_id,
            "owner_id": job.owner_id,
        }
        where = f" on {event.node_id}" if event.node_id else ""
        why = f": {event.message}" if event.message else ""
        code = f" [{event.error_code}]" if event.error_code else ""
        JOBS.log(
            level,
            "job %s %s/%s %s -> %s%s attempts=%s/%s%s%s",
            job.id,
            job.kind,
            job.type,
            event.type,
            job.status.value,
            where,
            job.attempts,
            job.max_attempts,
            code,
            why,
            extra={FIELDS: fields},
        )

    def node_seen(self, node: AgentNode) -> None:
        key = (node.kind, node.node_id)
        if key in self._online:
            return
        self._online.add(key)
        AGENTS.info(
            "agent %s/%s connected (owner %s, version %s)",
            node.kind,
            node.node_id,
            node.owner_id,
            node.version,
            extra={
                FIELDS: {
                    "event": "connected",
                    "node_kind": node.kind,
                    "node": node.node_id,
                    "owner_id": node.owner_id,
                    "version": node.version,
                }
            },
        )

    def node_gone(self, kind: str, node_id: str, *, reason: str) -> None:
        self._online.discard((kind, node_id))
        AGENTS.info(
            "agent %s/%s disconnected (%s)",
            kind,
            node_id,
            reason,
            extra={FIELDS: {"event": "disconnected", "node_kind": kind, "node": node_id, "reason": reason}},
        )


class Observers:
    """Several engine observers as one; a failing observer is logged, never the engine's problem."""

    def __init__(self, *observers: EngineObserver) -> None:
        self._observers = observers

    def job_changed(self, change: Change) -> None:
        for observer in self._observers:
            try:
                observer.job_changed(change)
            except Exception:
                logging.getLogger(__name__).exception("engine observer failed")

    def node_seen(self, node: AgentNode) -> None:
        for observer in self._observers:
            try:
                observer.node_seen(node)
            except Exception:
                logging.getLogger(__name__).exception("engine observer failed")

    def node_gone(self, kind: str, node_id: str, *, reason: str) -> None:
        for observer in self._observers:
            try:
                observer.node_gone(kind, node_id, reason=reason)
            except Exception:
                logging.getLogger(__name__).exception("engine observer failed")
