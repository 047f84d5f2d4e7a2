"""A bounded in-memory ring of this protocol's log records (MCP client, game polling, the MCP server's
stderr), with a level that changes live and listeners for `/ws/logs`."""

from __future__ import annotations

import logging
import os
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOGGER = "agenthub.maicraft"  # the protocol's loggers are children: agenthub.maicraft.<Module>
TRACE, SUCCESS = 5, 25
LEVELS: dict[str, int] = {
    "TRACE": TRACE,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "SUCCESS": SUCCESS,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}
_NAMES = {number: name for name, number in LEVELS.items()}


def logger(module: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER}.{module}")


@dataclass(frozen=True, slots=True)
class LogEntry:
    timestamp: int
    level: str
    module: str
    message: str
    file: str
    line: int

    def wire(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "level": self.level,
            "module": self.module,
            "message": self.message,
            "file": self.file,
            "line": self.line,
        }


def level_name(number: int) -> str:
    return _NAMES.get(number) or logging.getLevelName(number)


class LogRing(logging.Handler):
    def __init__(self, capacity: int, level: str) -> None:
        super().__init__()
        self.capacity = capacity
        self.entries: deque[LogEntry] = deque(maxlen=capacity)
        self.listeners: set[Callable[[LogEntry], None]] = set()
        self.current = "INFO"
        self.set_level(level)

    def set_level(self, name: str) -> None:
        name = name.upper()
        if name not in LEVELS:
            raise ValueError(name)
        self.current = name
        self.setLevel(LEVELS[name])
        logging.getLogger(LOGGER).setLevel(LEVELS[name])

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = LogEntry(
                timestamp=int(record.created * 1000),
                level=level_name(record.levelno),
                module=record.name.rsplit(".", 1)[-1],
                message=record.getMessage(),
                file=os.path.basename(record.pathname),
                line=record.lineno,
            )
        except Exception:
            self.handleError(record)
            return
        self.entries.append(entry)
        for listener in list(self.listeners):
            listener(entry)

    def attach(self) -> None:
        root = logging.getLogger(LOGGER)
        root.addHandler(self)
        root.setLevel(LEVELS[self.current])

    def detach(self) -> None:
        logging.getLogger(LOGGER).removeHandler(self)

    def clear(self) -> int:
        count = len(self.entries)
        self.entries.clear()
        return count

    def stats(self) -> dict[str, Any]:
        entries = list(self.entries)
        return {
            "total_logs": len(entries),
            "level_counts": dict(Counter(e.level for e in entries)),
            "module_counts": dict(Counter(e.module for e in entries)),
            "time_range": {
                "earliest": entries[0].timestamp if entries else None,
                "latest": entries[-1].timestamp if entries else None,
            },
            "max_capacity": self.capacity,
            "utilization_percent": round(len(entries) * 100 / self.capacity, 2),
        }
