"""devices: presence moves to the engine's node rows

The registry loses its own clock (`status`, `last_heartbeat`): the engine's `agent_nodes` row of kind
`devices` says when a device was last heard from. Before the columns go, each device's last heartbeat and
status are copied onto its node row (created if missing), so no device changes state across the upgrade.

Revision ID: 0102_devices_presence
Revises: 0101_devices
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import UtcDateTime

revision: str = "0102_devices_presence"
down_revision: str | Sequence[str] | None = "0101_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEVICE = "agent_nodes.kind = 'devices' AND agent_nodes.node_id = devices_devices.device_id"


def upgrade() -> None:
    op.execute(
        "INSERT INTO agent_nodes (kind, node_id, status, last_seen_at, created_at) "
        "SELECT 'devices', device_id, status, last_heartbeat, registered_at FROM devices_devices "
        f"WHERE NOT EXISTS (SELECT 1 FROM agent_nodes WHERE {_DEVICE})"
    )
    op.execute(
        "UPDATE agent_nodes SET "
        f"status = (SELECT status FROM devices_devices WHERE {_DEVICE}), "
        f"last_seen_at = (SELECT last_heartbeat FROM devices_devices WHERE {_DEVICE}) "
        "WHERE kind = 'devices' AND node_id IN (SELECT device_id FROM devices_devices)"
    )
    op.drop_index("ix_devices_devices_status", table_name="devices_devices")
    with op.batch_alter_table("devices_devices") as batch:
        batch.drop_column("status")
        batch.drop_column("last_heartbeat")


def downgrade() -> None:
    with op.batch_alter_table("devices_devices") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="offline"))
        batch.add_column(sa.Column("last_heartbeat", UtcDateTime, nullable=True))
    op.execute(
        "UPDATE devices_devices SET "
        f"status = COALESCE((SELECT status FROM agent_nodes WHERE {_DEVICE}), 'offline'), "
        f"last_heartbeat = COALESCE((SELECT last_seen_at FROM agent_nodes WHERE {_DEVICE}), registered_at)"
    )
    with op.batch_alter_table("devices_devices") as batch:
        batch.alter_column("status", server_default=None)
        batch.alter_column("last_heartbeat", existing_type=UtcDateTime, nullable=False)
    op.create_index("ix_devices_devices_status", "devices_devices", ["status", "last_heartbeat"])
