"""The scan side table: what an engine job of kind `oas.scan` needs beyond the job row itself."""

from __future__ import annotations

import sqlalchemy as sa

from agenthub.storage.tables import metadata
from agenthub.storage.types import JsonType, UtcDateTime

scan_jobs = sa.Table(
    "oas_scan_jobs",
    metadata,
    sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("manager_id", sa.BigInteger, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("login_id", sa.String(64), nullable=False),
    sa.Column(
        "lease_epoch", sa.Integer, nullable=False, server_default="0"
    ),  # the lease the phase belongs to
    sa.Column("phase", sa.String(32), nullable=False, server_default="waiting"),
    sa.Column("screenshots", JsonType, nullable=True),
    sa.Column("choice_type", sa.String(16), nullable=True),
    sa.Column("choice_value", sa.String(256), nullable=True),
    sa.Column("user_seen_at", UtcDateTime, nullable=False),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_oas_scan_jobs_user", "user_id", "created_at"),
)

SCAN_TABLES = (scan_jobs,)
