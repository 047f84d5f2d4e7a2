"""Oas2.0 cloud backend tables: super admins, managers, users (game accounts) and their execution logs.
Agent jobs are engine jobs of kind `oas.task`; agent nodes are engine nodes of kind `oas`."""

from __future__ import annotations

import sqlalchemy as sa

from agenthub.storage.tables import metadata
from agenthub.storage.types import JsonType, UtcDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

super_admins = sa.Table(
    "oas_super_admins",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

managers = sa.Table(
    "oas_managers",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("alias", sa.String(128), nullable=False, server_default=""),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    # Raised when the password is reset: tokens issued before carry an older version and stop working.
    sa.Column("token_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

users = sa.Table(
    "oas_users",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "manager_id", sa.BigInteger, sa.ForeignKey("oas_managers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("account_no", sa.String(64), nullable=False, unique=True),
    sa.Column("login_id", sa.String(64), nullable=False),
    sa.Column("user_type", sa.String(16), nullable=False, server_default="daily"),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("archive_status", sa.String(32), nullable=False, server_default="normal"),
    sa.Column("server", sa.String(64), nullable=False, server_default=""),
    sa.Column("username", sa.String(64), nullable=False, server_default=""),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    sa.Column("assets", JsonType, nullable=True),
    sa.Column("task_config", JsonType, nullable=True),
    sa.Column("task_config_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rest_config", JsonType, nullable=True),
    sa.Column("lineup_config", JsonType, nullable=True),
    sa.Column("shikigami_config", JsonType, nullable=True),
    sa.Column("explore_progress", JsonType, nullable=True),
    sa.Column("notify_config", JsonType, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("manager_id", "login_id", name="uq_oas_users_manager_login_id"),
)

user_logs = sa.Table(
    "oas_user_logs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("oas_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("manager_id", sa.BigInteger, nullable=False),
    sa.Column("node_id", sa.String(128), nullable=True),
    sa.Column("type", sa.String(64), nullable=False, server_default=""),
    sa.Column("level", sa.String(16), nullable=False, server_default="INFO"),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("ts", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_oas_user_logs_user", "user_id", "id"),
)

duiyi_answers = sa.Table(
    "oas_duiyi_answers",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "manager_id", sa.BigInteger, sa.ForeignKey("oas_managers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("day", sa.String(10), nullable=False),  # the Beijing date, YYYY-MM-DD
    sa.Column("answers", JsonType, nullable=False),  # {"10:00": "左", ...}
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("manager_id", "day", name="uq_oas_duiyi_answers_manager_day"),
)

OAS_TABLES = (super_admins, managers, users, user_logs, duiyi_answers)
