"""The device registry: what each device told us when it registered, and its current Socket.IO connection.

When a device was last heard from, and so whether it is online, is the engine's node row (kind `devices`,
silence window `offline_after_seconds`); nothing here keeps a second clock.
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
    sa.Column("sid", sa.String(64), nullable=True),
    sa.Column("registered_at", UtcDateTime, nullable=False),
)

DEVICES_TABLES = (devices,)
