"""engine: the console's job indexes (keyset pages across kinds) and disabled nodes

Revision ID: 0002_engine_console
Revises: 0001_engine
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agenthub.storage.types import UtcDateTime

revision: str = "0002_engine_console"
down_revision: str | Sequence[str] | None = "0001_engine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_jobs_kind_id", "jobs", ["kind", "id"])
    op.create_index("ix_jobs_status_id", "jobs", ["status", "id"])
    op.create_index("ix_jobs_leased_by", "jobs", ["leased_by", "id"])
    with op.batch_alter_table("agent_nodes") as batch:
        batch.add_column(sa.Column("disabled_at", UtcDateTime, nullable=True))
        batch.add_column(sa.Column("disabled_by", sa.String(128), nullable=True))
    op.create_index("ix_agent_nodes_node", "agent_nodes", ["node_id"])


def downgrade() -> None:
    op.drop_index("ix_agent_nodes_node", "agent_nodes")
    with op.batch_alter_table("agent_nodes") as batch:
        batch.drop_column("disabled_by")
        batch.drop_column("disabled_at")
    for name in ("ix_jobs_leased_by", "ix_jobs_status_id", "ix_jobs_kind_id"):
        op.drop_index(name, "jobs")
