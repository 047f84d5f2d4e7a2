"""comfyui tables: agents, manifests, task events, alerts

Revision ID: 0201_comfyui
Revises: 0001_engine
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import JsonType, UtcDateTime

revision: str = "0201_comfyui"
down_revision: str | Sequence[str] | None = "0001_engine"
branch_labels: str | Sequence[str] | None = ("comfyui",)
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "comfyui_agents",
        sa.Column("agent_id", sa.String(128), nullable=False),
        sa.Column("base_url", sa.String(512), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("agent_version", sa.String(64), nullable=True),
        sa.Column("comfyui_version", sa.String(128), nullable=True),
        sa.Column("metrics", JsonType, nullable=True),
        sa.Column("last_heartbeat_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("agent_id", name="pk_comfyui_agents"),
    )
    op.create_table(
        "comfyui_manifests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("content", JsonType, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comfyui_manifests"),
        sa.UniqueConstraint("name", "version", name="uq_comfyui_manifests_name_version"),
    )
    op.create_table(
        "comfyui_task_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.String(128), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", JsonType, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_comfyui_task_events_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_comfyui_task_events"),
    )
    op.create_index("ix_comfyui_task_events_job", "comfyui_task_events", ["job_id", "id"])
    op.create_table(
        "comfyui_alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", JsonType, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comfyui_alerts"),
    )
    op.create_index("ix_comfyui_alerts_agent", "comfyui_alerts", ["agent_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_comfyui_alerts_agent", table_name="comfyui_alerts")
    op.drop_table("comfyui_alerts")
    op.drop_index("ix_comfyui_task_events_job", table_name="comfyui_task_events")
    op.drop_table("comfyui_task_events")
    op.drop_table("comfyui_manifests")
    op.drop_table("comfyui_agents")
