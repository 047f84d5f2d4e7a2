"""The engine's tables, and the MetaData every protocol's tables join."""

from __future__ import annotations

import sqlalchemy as sa

from agenthub.core.jobs import Job
from agenthub.storage.types import JsonType, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("owner_id", sa.BigInteger, nullable=True),
    sa.Column("subject_id", sa.BigInteger, nullable=True),
    sa.Column("external_id", sa.String(128), nullable=True),
    sa.Column("target_node", sa.String(128), nullable=True),
    sa.Column("dedupe_key", sa.String(255), nullable=True),
    sa.Column("payload", JsonType, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("scheduled_at", UtcDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False, server_default="3"),
    sa.Column("leased_by", sa.String(128), nullable=True),
    sa.Column("lease_epoch", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_until", UtcDateTime, nullable=True),
    sa.Column("deadline", UtcDateTime, nullable=True),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("progress", sa.Integer, nullable=True),
    sa.Column("result", JsonType, nullable=True),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("external_id", name="uq_jobs_external_id"),
    sa.UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
    # The lease query: pending jobs of a kind (and owner), best priority first, then oldest.
    sa.Index("ix_jobs_queue", "kind", "status", "owner_id", sa.text("priority DESC"), "scheduled_at", "id"),
    sa.Index("ix_jobs_held", "status", "lease_until"),
    sa.Index("ix_jobs_deadline", "status", "deadline"),
    sa.Index("ix_jobs_owner", "kind", "owner_id", "id"),
    sa.Index("ix_jobs_subject", "kind", "subject_id", "id"),
    # The console's keyset pages, newest first, across kinds or within one (0002_engine_console).
    sa.Index("ix_jobs_kind_id", "kind", "id"),
    sa.Index("ix_jobs_status_id", "status", "id"),
    sa.Index("ix_jobs_leased_by", "leased_by", "id"),
)

# What a transition may change on a job (the rest is fixed when it is created).
JOB_MUTABLE = (
    "status",
    "payload",
    "priority",
    "scheduled_at",
    "attempts",
    "max_attempts",
    "leased_by",
    "lease_epoch",
    "lease_until",
    "deadline",
    "started_at",
    "finished_at",
    "progress",
    "result",
    "error_code",
    "message",
    "updated_at",
    "target_node",
)


def changed_columns(job: Job, before: Job) -> tuple[str, ...]:
    """The mutable columns whose value differs between two versions of a job."""
    return tuple(
        name
        for name in JOB_MUTABLE
        if (value := getattr(job, name)) is not (old := getattr(before, name)) and value != old
    )


job_events = sa.Table(
    "job_events",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("node_id", sa.String(128), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("data", JsonType, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_job_events_job", "job_id", "id"),
)

job_logs = sa.Table(
    "job_logs",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("node_id", sa.String(128), nullable=True),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("ts", UtcDateTime, nullable=False),
    sa.Index("ix_job_logs_job", "job_id", "id"),
)

agent_nodes = sa.Table(
    "agent_nodes",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("node_id", sa.String(128), nullable=False),
    sa.Column("owner_id", sa.BigInteger, nullable=True),
    sa.Column("version", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("info", JsonType, nullable=True),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # An operator disabled the node: it leases nothing (0002_engine_console).
    sa.Column("disabled_at", UtcDateTime, nullable=True),
    sa.Column("disabled_by", sa.String(128), nullable=True),
    sa.UniqueConstraint("kind", "node_id", name="uq_agent_nodes_kind_node"),
    sa.Index("ix_agent_nodes_owner", "kind", "owner_id"),
    sa.Index("ix_agent_nodes_node", "node_id"),
)

# Small server-wide values that must be shared by every replica (e.g. the generated development JWT secret).
server_values = sa.Table(
    "server_values",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
