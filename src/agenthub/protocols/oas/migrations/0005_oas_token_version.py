"""oas credentials: a token version per manager, raised when its password is reset

Revision ID: 0005_oas_token_version
Revises: 0004_oas_ops, 0003_oas_scan
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_oas_token_version"
down_revision: str | Sequence[str] | None = ("0004_oas_ops", "0003_oas_scan")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "oas_managers", sa.Column("token_version", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("oas_managers") as batch:
        batch.drop_column("token_version")
