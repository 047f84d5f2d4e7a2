"""iac tables: applications, agents, workspaces, tasks, task log chunks, state versions

Revision ID: 0401_iac
Revises: 0001_engine
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import JsonType, UtcDateTime

revision: str = "0401_iac"
down_revision: str | Sequence[str] | None = "0001_engine"
branch_labels: str | Sequence[str] | None = ("iac",)
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "iac_applications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("app_key", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_iac_applications"),
        sa.UniqueConstraint("app_key", name="uq_iac_applications_app_key"),
    )
    op.create_table(
        "iac_agents",
        sa.Column("agent_id", sa.String(128), nullable=False),
        sa.Column("application_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("agent_id", name="pk_iac_agents"),
    )
    op.create_table(
        "iac_workspaces",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("application_id", sa.BigInteger(), nullable=False),
        sa.Column("terraform_version", sa.String(32), nullable=False),
        sa.Column("execution_mode", sa.String(32), nullable=False),
        sa.Column("provider_config", JsonType, nullable=True),
        sa.Column("tf_code", JsonType, nullable=False),
        sa.Column("system_variables", JsonType, nullable=True),
        sa.Column("variables", JsonType, nullable=False),
        sa.Column("current_state_version", sa.Integer(), nullable=True),
        sa.Column("tf_state", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_iac_workspaces"),
        sa.UniqueConstraint("workspace_id", name="uq_iac_workspaces_workspace_id"),
    )
    op.create_table(
        "iac_tasks",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("workspace_id", sa.String(128), nullable=False),
        sa.Column("task_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(32), nullable=True),
        sa.Column("changes_add", sa.Integer(), nullable=True),
        sa.Column("changes_change", sa.Integer(), nullable=True),
        sa.Column("changes_destroy", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("context", JsonType, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("completed_at", UtcDateTime, nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_iac_tasks_job_id_jobs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", name="pk_iac_tasks"),
    )
    op.create_index("ix_iac_tasks_workspace", "iac_tasks", ["workspace_id", "job_id"])
    op.create_table(
        "iac_task_logs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_iac_task_logs"),
        sa.UniqueConstraint("job_id", "phase", "offset", name="uq_iac_task_logs_chunk"),
    )
    op.create_table(
        "iac_state_versions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("agent_checksum", sa.String(128), nullable=True),
        sa.Column("agent_size", sa.BigInteger(), nullable=True),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_iac_state_versions"),
        sa.UniqueConstraint("workspace_id", "version", name="uq_iac_state_versions_version"),
    )


def downgrade() -> None:
    op.drop_table("iac_state_versions")
    op.drop_table("iac_task_logs")
    op.drop_index("ix_iac_tasks_workspace", table_name="iac_tasks")
    op.drop_table("iac_tasks")
    op.drop_table("iac_workspaces")
    op.drop_table("iac_agents")
    op.drop_table("iac_applications")
