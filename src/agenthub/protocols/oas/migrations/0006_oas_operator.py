"""oas operators: renewal keys, activation codes, audit log; users' token version (logout)

Revision ID: 0006_oas_operator
Revises: 0005_oas_token_version
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import JsonType, UtcDateTime

revision: str = "0006_oas_operator"
down_revision: str | Sequence[str] | None = "0005_oas_token_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("oas_users", sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "oas_renewal_keys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("code_hint", sa.String(16), nullable=False),
        sa.Column("manager_type", sa.String(16), nullable=False, server_default="all"),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="unused"),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("used_by_manager_id", sa.BigInteger(), nullable=True),
        sa.Column("used_at", UtcDateTime, nullable=True),
        sa.Column("valid_until", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oas_renewal_keys"),
        sa.UniqueConstraint("code_hash", name="uq_oas_renewal_keys_code_hash"),
    )
    op.create_table(
        "oas_activation_codes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("manager_id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("code_hint", sa.String(16), nullable=False),
        sa.Column("user_type", sa.String(16), nullable=False, server_default="daily"),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="unused"),
        sa.Column("used_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("used_at", UtcDateTime, nullable=True),
        sa.Column("valid_until", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["oas_managers.id"],
            name="fk_oas_activation_codes_manager_id_oas_managers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oas_activation_codes"),
        sa.UniqueConstraint("code_hash", name="uq_oas_activation_codes_code_hash"),
    )
    op.create_index("ix_oas_activation_codes_manager", "oas_activation_codes", ["manager_id", "id"])
    op.create_table(
        "oas_audit_logs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False, server_default=""),
        sa.Column("target_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("detail", JsonType, nullable=True),
        sa.Column("ip", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oas_audit_logs"),
    )
    op.create_index("ix_oas_audit_logs_created", "oas_audit_logs", ["created_at"])


def downgrade() -> None:
    op.drop_table("oas_audit_logs")
    op.drop_table("oas_activation_codes")
    op.drop_table("oas_renewal_keys")
    with op.batch_alter_table("oas_users") as batch:
        batch.drop_column("token_version")
