"""Oas rows as plain dataclasses, and how they look on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agenthub.protocols.oas.wire import fmt_time


@dataclass(frozen=True, slots=True)
class Manager:
    id: int
    username: str
    password_hash: str
    alias: str
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    token_version: int = 0

    def is_active(self, now: datetime) -> bool:
        """No expiry means not activated, which counts as expired (as the original does)."""
        return self.expires_at is not None and self.expires_at > now

    def to_wire(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "alias": self.alias,
            "expires_at": fmt_time(self.expires_at),
            "is_active": self.is_active(now),
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class Recipient:
    """What a job's reminder needs of its user: who, and how they want to hear."""

    id: int
    login_id: str
    username: str
    notify_config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    manager_id: int
    account_no: str
    login_id: str
    user_type: str
    status: str
    archive_status: str
    server: str
    username: str
    expires_at: datetime | None
    assets: dict[str, Any]
    task_config: dict[str, Any]
    task_config_version: int
    rest_config: dict[str, Any]
    lineup_config: dict[str, Any]
    shikigami_config: dict[str, Any]
    explore_progress: dict[str, Any]
    notify_config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    token_version: int = 0  # bumped by logout: the user's earlier tokens stop working

    def recipient(self) -> Recipient:
        return Recipient(self.id, self.login_id, self.username, self.notify_config)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "manager_id": self.manager_id,
            "account_no": self.account_no,
            "login_id": self.login_id,
            "user_type": self.user_type,
            "status": self.status,
            "archive_status": self.archive_status,
            "server": self.server,
            "username": self.username,
            "expires_at": fmt_time(self.expires_at),
            "assets": self.assets,
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        }

    def full_config(self) -> dict[str, Any]:
        """The body of GET /agent/users/:id/full-config (seed 4.7)."""
        return {
            "login_id": self.login_id,
            "task_config": self.task_config,
            "rest_config": self.rest_config,
            "lineup_config": self.lineup_config,
            "shikigami_config": self.shikigami_config,
            "explore_progress": self.explore_progress,
        }


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: int
    user_id: int
    node_id: str | None
    type: str
    level: str
    message: str
    ts: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "node_id": self.node_id,
            "type": self.type,
            "level": self.level,
            "message": self.message,
            "ts": fmt_time(self.ts),
        }
