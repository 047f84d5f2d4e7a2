"""oas tables: super admins, managers, users, user logs

Revision ID: 0002_oas
Revises: 0001_engine
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import JsonType, UtcDateTime

revision: str = "0002_oas"
down_revision: str | Sequence[str] | None = "0001_engine"
branch_labels: str | Sequence[str] | None = ("oas",)
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "oas_super_admins",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oas_super_admins"),
        sa.UniqueConstraint("username", name="uq_oas_super_admins_username"),
    )
    op.create_table(
        "oas_managers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("alias", sa.String(128), server_default="", nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oas_managers"),
        sa.UniqueConstraint("username", name="uq_oas_managers_username"),
    )
    op.create_table(
        "oas_users",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("manager_id", sa.BigInteger(), nullable=False),
        sa.Column("account_no", sa.String(64), nullable=False),
        sa.Column("login_id", sa.String(64), nullable=False),
        sa.Column("user_type", sa.String(16), server_default="daily", nullable=False),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        sa.Column("archive_status", sa.String(32), server_default="normal", nullable=False),
        sa.Column("server", sa.String(64), server_default="", nullable=False),
        sa.Column("username", sa.String(64), server_default="", nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=True),
        sa.Column("assets", JsonType, nullable=True),
        sa.Column("task_config", JsonType, nullable=True),
        sa.Column("task_config_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rest_config", JsonType, nullable=True),
        sa.Column("lineup_config", JsonType, nullable=True),
        sa.Column("shikigami_config", JsonType, nullable=True),
        sa.Column("explore_progress", JsonType, nullable=True),
        sa.Column("notify_config", JsonType, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["oas_managers.id"],
            name="fk_oas_users_manager_id_oas_managers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oas_users"),
        sa.UniqueConstraint("account_no", name="uq_oas_users_account_no"),
        sa.UniqueConstraint("manager_id", "login_id", name="uq_oas_users_manager_login_id"),
    )
    op.create_table(
        "oas_user_logs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("manager_id", sa.BigInteger(), nullable=False),
        sa.Column("node_id", sa.String(128), nullable=True),
        sa.Column("type", sa.String(64), server_default="", nullable=False),
        sa.Column("level", sa.String(16), server_default="INFO", nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("ts", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["oas_users.id"], name="fk_oas_user_logs_user_id_oas_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oas_user_logs"),
    )
    op.create_index("ix_oas_user_logs_user", "oas_user_logs", ["user_id", "id"])


def downgrade() -> None:
    for table in ("oas_user_logs", "oas_users", "oas_managers", "oas_super_admins"):
        op.drop_table(table)
