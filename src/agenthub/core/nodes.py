"""Agent nodes and their presence: a node is online while it has been heard from recently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class NodeStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class AgentNode:
    kind: str
    node_id: str
    status: NodeStatus
    last_seen_at: datetime
    created_at: datetime
    owner_id: int | None = None
    version: str | None = None
    info: dict[str, Any] | None = None
    # Set by an operator (the console): a disabled node leases nothing until enabled again.
    disabled_at: datetime | None = None
    disabled_by: str | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    def is_online(self, now: datetime, window: timedelta) -> bool:
        return self.status is NodeStatus.ONLINE and now - self.last_seen_at <= window


@dataclass(frozen=True, slots=True)
class NodeSighting:
    """What a node told us when it was last heard from."""

    kind: str
    node_id: str
    owner_id: int | None = None
    version: str | None = None
    info: dict[str, Any] | None = None
