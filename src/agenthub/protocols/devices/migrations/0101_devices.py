"""devices tables: the device registry

Revision ID: 0101_devices
Revises: 0001_engine
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import JsonType, UtcDateTime

revision: str = "0101_devices"
down_revision: str | Sequence[str] | None = "0001_engine"
branch_labels: str | Sequence[str] | None = ("devices",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devices_devices",
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("device_name", sa.String(255), nullable=False),
        sa.Column("device_type", sa.String(64), nullable=False),
        sa.Column("device_info", JsonType, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sid", sa.String(64), nullable=True),
        sa.Column("registered_at", UtcDateTime, nullable=False),
        sa.Column("last_heartbeat", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("device_id", name="pk_devices_devices"),
    )
    op.create_index("ix_devices_devices_status", "devices_devices", ["status", "last_heartbeat"])


def downgrade() -> None:
    op.drop_index("ix_devices_devices_status", table_name="devices_devices")
    op.drop_table("devices_devices")
