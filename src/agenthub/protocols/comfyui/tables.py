"""ComfyUI platform tables: agents (where they take tasks, whether allowed, latest metrics; when each was last
heard from is the engine's, on its agent node), manifests (each version an immutable row), the seed's task
events, and alerts. Tasks themselves are engine jobs of kind `comfyui.task` whose external_id is the `agt_...`
task id."""

from __future__ import annotations

import sqlalchemy as sa

from agenthub.storage.tables import metadata
from agenthub.storage.types import JsonType, UtcDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

agents = sa.Table(
    "comfyui_agents",
    metadata,
    sa.Column("agent_id", sa.String(128), primary_key=True),
    sa.Column("base_url", sa.String(512), nullable=False),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(32), nullable=True),
    sa.Column("agent_version", sa.String(64), nullable=True),
    sa.Column("comfyui_version", sa.String(128), nullable=True),
    sa.Column("metrics", JsonType, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

manifests = sa.Table(
    "comfyui_manifests",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("content", JsonType, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("name", "version", name="uq_comfyui_manifests_name_version"),
)

task_events = sa.Table(
    "comfyui_task_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("task_id", sa.String(128), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("payload", JsonType, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_comfyui_task_events_job", "job_id", "id"),
)

alerts = sa.Table(
    "comfyui_alerts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("agent_id", sa.String(128), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("payload", JsonType, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_comfyui_alerts_agent", "agent_id", "id"),
)

COMFYUI_TABLES = (agents, manifests, task_events, alerts)
