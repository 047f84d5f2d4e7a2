"""comfyui: presence is the engine's (agent nodes of kind `comfyui`), so agents lose last_heartbeat_at

Revision ID: 0202_comfyui_presence
Revises: 0201_comfyui
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import UtcDateTime

revision: str = "0202_comfyui_presence"
down_revision: str | Sequence[str] | None = "0201_comfyui"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table, PostgreSQL drops the column in place.
    with op.batch_alter_table("comfyui_agents") as batch:
        batch.drop_column("last_heartbeat_at")


def downgrade() -> None:
    with op.batch_alter_table("comfyui_agents") as batch:
        batch.add_column(sa.Column("last_heartbeat_at", UtcDateTime, nullable=True))
