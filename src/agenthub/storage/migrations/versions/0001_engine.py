"""engine tables: jobs, job events, job logs, agent nodes, server values

Revision ID: 0001_engine
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import JsonType, UtcDateTime

revision: str = "0001_engine"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("engine",)
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("subject_id", sa.BigInteger(), nullable=True),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("target_node", sa.String(128), nullable=True),
        sa.Column("dedupe_key", sa.String(255), nullable=True),
        sa.Column("payload", JsonType, nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("scheduled_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="3", nullable=False),
        sa.Column("leased_by", sa.String(128), nullable=True),
        sa.Column("lease_epoch", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_until", UtcDateTime, nullable=True),
        sa.Column("deadline", UtcDateTime, nullable=True),
        sa.Column("started_at", UtcDateTime, nullable=True),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.Column("result", JsonType, nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("external_id", name="uq_jobs_external_id"),
        sa.UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
    )
    op.create_index(
        "ix_jobs_queue",
        "jobs",
        ["kind", "status", "owner_id", sa.text("priority DESC"), "scheduled_at", "id"],
    )
    op.create_index("ix_jobs_held", "jobs", ["status", "lease_until"])
    op.create_index("ix_jobs_deadline", "jobs", ["status", "deadline"])
    op.create_index("ix_jobs_owner", "jobs", ["kind", "owner_id", "id"])
    op.create_index("ix_jobs_subject", "jobs", ["kind", "subject_id", "id"])

    op.create_table(
        "job_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("node_id", sa.String(128), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("data", JsonType, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_job_events_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_job_events"),
    )
    op.create_index("ix_job_events_job", "job_events", ["job_id", "id"])

    op.create_table(
        "job_logs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("node_id", sa.String(128), nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("ts", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_job_logs_job_id_jobs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_job_logs"),
    )
    op.create_index("ix_job_logs_job", "job_logs", ["job_id", "id"])

    op.create_table(
        "agent_nodes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("info", JsonType, nullable=True),
        sa.Column("last_seen_at", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agent_nodes"),
        sa.UniqueConstraint("kind", "node_id", name="uq_agent_nodes_kind_node"),
    )
    op.create_index("ix_agent_nodes_owner", "agent_nodes", ["kind", "owner_id"])

    op.create_table(
        "server_values",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_server_values"),
    )


def downgrade() -> None:
    for table in ("server_values", "agent_nodes", "job_logs", "job_events", "jobs"):
        op.drop_table(table)
