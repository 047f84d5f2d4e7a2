"""oas scan jobs: the side table of engine jobs of kind oas.scan

Revision ID: 0003_oas_scan
Revises: 0002_oas
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import JsonType, UtcDateTime

revision: str = "0003_oas_scan"
down_revision: str | Sequence[str] | None = "0002_oas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oas_scan_jobs",
        sa.Column("job_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("manager_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("login_id", sa.String(64), nullable=False),
        sa.Column("lease_epoch", sa.Integer(), server_default="0", nullable=False),
        sa.Column("phase", sa.String(32), server_default="waiting", nullable=False),
        sa.Column("screenshots", JsonType, nullable=True),
        sa.Column("choice_type", sa.String(16), nullable=True),
        sa.Column("choice_value", sa.String(256), nullable=True),
        sa.Column("user_seen_at", UtcDateTime, nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_oas_scan_jobs_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", name="pk_oas_scan_jobs"),
    )
    op.create_index("ix_oas_scan_jobs_user", "oas_scan_jobs", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_oas_scan_jobs_user", table_name="oas_scan_jobs")
    op.drop_table("oas_scan_jobs")
