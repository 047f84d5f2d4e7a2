"""Tables of the operators' side the original frontend drives: renewal keys (super admin -> managers),
activation codes (manager -> users) and the audit log of every operator action.

Keys and codes are secrets: only a SHA-256 of each is stored (they are 144-bit random strings, so a plain
digest is enough), with a short hint so an operator can tell them apart in a list."""

from __future__ import annotations

import sqlalchemy as sa

from agenthub.storage.tables import metadata
from agenthub.storage.types import JsonType, UtcDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

renewal_keys = sa.Table(
    "oas_renewal_keys",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("code_hint", sa.String(16), nullable=False),
    sa.Column("manager_type", sa.String(16), nullable=False, server_default="all"),
    sa.Column("duration_days", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="unused"),  # unused | used | revoked
    sa.Column("created_by", sa.BigInteger, nullable=True),  # the super admin
    sa.Column("used_by_manager_id", sa.BigInteger, nullable=True),
    sa.Column("used_at", UtcDateTime, nullable=True),
    sa.Column("valid_until", UtcDateTime, nullable=True),  # none: redeemable until used or revoked
    sa.Column("created_at", UtcDateTime, nullable=False),
)

activation_codes = sa.Table(
    "oas_activation_codes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "manager_id", sa.BigInteger, sa.ForeignKey("oas_managers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("code_hint", sa.String(16), nullable=False),
    sa.Column("user_type", sa.String(16), nullable=False, server_default="daily"),
    sa.Column("duration_days", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="unused"),  # unused | used | revoked
    sa.Column("used_by_user_id", sa.BigInteger, nullable=True),
    sa.Column("used_at", UtcDateTime, nullable=True),
    sa.Column("valid_until", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_oas_activation_codes_manager", "manager_id", "id"),
)

audit_logs = sa.Table(
    "oas_audit_logs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("actor_type", sa.String(16), nullable=False),  # super | manager | user | anonymous
    sa.Column("actor_id", sa.BigInteger, nullable=True),
    sa.Column("action", sa.String(128), nullable=False),
    sa.Column("target_type", sa.String(32), nullable=False, server_default=""),
    sa.Column("target_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("detail", JsonType, nullable=True),
    sa.Column("ip", sa.String(64), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_oas_audit_logs_created", "created_at"),
)

OPERATOR_TABLES = (renewal_keys, activation_codes, audit_logs)
