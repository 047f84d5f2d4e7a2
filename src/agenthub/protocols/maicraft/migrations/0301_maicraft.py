"""maicraft tables: locations, to-do tasks, token usage

Revision ID: 0301_maicraft
Revises: 0001_engine
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import UtcDateTime

revision: str = "0301_maicraft"
down_revision: str | Sequence[str] | None = "0001_engine"
branch_labels: str | Sequence[str] | None = ("maicraft",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maicraft_locations",
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("z", sa.Integer(), nullable=False),
        sa.Column("visit_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("bot", "name", name="pk_maicraft_locations"),
    )
    op.create_table(
        "maicraft_tasks",
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("task_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("done_criteria", sa.Text(), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bot", "task_id", name="pk_maicraft_tasks"),
    )
    op.create_table(
        "maicraft_token_usage",
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(255), nullable=False),
        sa.Column("total_prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_calls", sa.BigInteger(), nullable=False),
        sa.Column("total_cost", sa.Float(), nullable=False),
        sa.Column("first_call_time", sa.Float(), nullable=False),
        sa.Column("last_call_time", sa.Float(), nullable=False),
        sa.Column("last_updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("bot", "model_name", name="pk_maicraft_token_usage"),
    )


def downgrade() -> None:
    op.drop_table("maicraft_token_usage")
    op.drop_table("maicraft_tasks")
    op.drop_table("maicraft_locations")
