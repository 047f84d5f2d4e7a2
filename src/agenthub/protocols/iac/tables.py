"""IaC platform tables. Tasks are engine jobs of kind `iac.task` (the wire's numeric task id is the job id);
`iac_tasks` holds what the seed adds to a task (IaC status, stage, change counts); its plan/apply output is
read from its log chunks (appending to one growing text column would rewrite it on every chunk)."""

from __future__ import annotations

import sqlalchemy as sa

from agenthub.storage.tables import metadata
from agenthub.storage.types import JsonType, UtcDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

applications = sa.Table(
    "iac_applications",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("app_key", sa.String(64), nullable=False),
    # sha256 of a 256-bit random secret: a slow hash adds nothing against guessing, and keeps checks cheap.
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("app_key", name="uq_iac_applications_app_key"),
)

agents = sa.Table(
    "iac_agents",
    metadata,
    sa.Column("agent_id", sa.String(128), primary_key=True),
    sa.Column("application_id", sa.BigInteger, nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

workspaces = sa.Table(
    "iac_workspaces",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.String(128), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("application_id", sa.BigInteger, nullable=False),
    sa.Column("terraform_version", sa.String(32), nullable=False),
    sa.Column("execution_mode", sa.String(32), nullable=False),
    sa.Column("provider_config", JsonType, nullable=True),
    sa.Column("tf_code", JsonType, nullable=False),
    sa.Column("system_variables", JsonType, nullable=True),
    sa.Column("variables", JsonType, nullable=False),
    sa.Column("current_state_version", sa.Integer, nullable=True),
    sa.Column("tf_state", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("workspace_id", name="uq_iac_workspaces_workspace_id"),
)

tasks = sa.Table(
    "iac_tasks",
    metadata,
    sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("workspace_id", sa.String(128), nullable=False),
    sa.Column("task_type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("stage", sa.String(32), nullable=True),
    sa.Column("changes_add", sa.Integer, nullable=True),
    sa.Column("changes_change", sa.Integer, nullable=True),
    sa.Column("changes_destroy", sa.Integer, nullable=True),
    sa.Column("duration", sa.Integer, nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("context", JsonType, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("completed_at", UtcDateTime, nullable=True),
    sa.Index("ix_iac_tasks_workspace", "workspace_id", "job_id"),
)

task_logs = sa.Table(
    "iac_task_logs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    # No foreign key to jobs on purpose: a chunk is written under the task row's lock, and a key check on
    # the job would wait for a job change that itself waits for that task row (a deadlock on PostgreSQL).
    sa.Column("job_id", sa.BigInteger, nullable=False),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),  # byte offset of the chunk in its phase's log
    sa.Column("size", sa.Integer, nullable=False),  # bytes (UTF-8)
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("job_id", "phase", "offset", name="uq_iac_task_logs_chunk"),
)

state_versions = sa.Table(
    "iac_state_versions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.String(128), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),  # sha256 of `content` as stored
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("agent_checksum", sa.String(128), nullable=True),  # as the agent sent it
    sa.Column("agent_size", sa.BigInteger, nullable=True),
    sa.Column("task_id", sa.BigInteger, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("workspace_id", "version", name="uq_iac_state_versions_version"),
)

IAC_TABLES = (applications, agents, workspaces, tasks, task_logs, state_versions)
