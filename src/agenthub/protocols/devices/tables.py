"""The device registry: who is connected where, and when each device was last heard from.

The engine's `agent_nodes` row is kept too (for the console), but its presence sweep uses one silence window
for every protocol; the seed's own rule (offline after 300 s without a heartbeat, or on disconnect) and the
Socket.IO session id live here.
"""

from __future__ import annotations

import sqlalchemy as sa

from agenthub.storage.tables import metadata
from agenthub.storage.types import JsonType, UtcDateTime

devices = sa.Table(
    "devices_devices",
    metadata,
    sa.Column("device_id", sa.String(128), primary_key=True),
    sa.Column("device_name", sa.String(255), nullable=False),
    sa.Column("device_type", sa.String(64), nullable=False),
    sa.Column("device_info", JsonType, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("sid", sa.String(64), nullable=True),
    sa.Column("registered_at", UtcDateTime, nullable=False),
    sa.Column("last_heartbeat", UtcDateTime, nullable=False),
    sa.Index("ix_devices_devices_status", "status", "last_heartbeat"),
)

DEVICES_TABLES = (devices,)
