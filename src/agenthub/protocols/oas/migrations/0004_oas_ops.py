"""oas operations: duiyi answers per manager and Beijing day

Revision ID: 0004_oas_ops
Revises: 0002_oas
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import JsonType, UtcDateTime

revision: str = "0004_oas_ops"
down_revision: str | Sequence[str] | None = "0002_oas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "oas_duiyi_answers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("manager_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("answers", JsonType, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["oas_managers.id"],
            name="fk_oas_duiyi_answers_manager_id_oas_managers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oas_duiyi_answers"),
        sa.UniqueConstraint("manager_id", "day", name="uq_oas_duiyi_answers_manager_day"),
    )


def downgrade() -> None:
    op.drop_table("oas_duiyi_answers")
