"""Maicraft tables: what the original keeps on disk (locations, the to-do list, token usage), per bot."""

from __future__ import annotations

import sqlalchemy as sa

from agenthub.storage.tables import metadata
from agenthub.storage.types import UtcDateTime

locations = sa.Table(
    "maicraft_locations",
    metadata,
    sa.Column("bot", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("info", sa.Text, nullable=False),
    sa.Column("x", sa.Integer, nullable=False),
    sa.Column("y", sa.Integer, nullable=False),
    sa.Column("z", sa.Integer, nullable=False),
    sa.Column("visit_count", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

tasks = sa.Table(
    "maicraft_tasks",
    metadata,
    sa.Column("bot", sa.String(64), primary_key=True),
    sa.Column("task_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("done_criteria", sa.Text, nullable=False),
    sa.Column("progress", sa.Text, nullable=False),
    sa.Column("done", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),  # creation order (ids are reused)
)

token_usage = sa.Table(
    "maicraft_token_usage",
    metadata,
    sa.Column("bot", sa.String(64), primary_key=True),
    sa.Column("model_name", sa.String(255), primary_key=True),
    sa.Column("total_prompt_tokens", sa.BigInteger, nullable=False),
    sa.Column("total_completion_tokens", sa.BigInteger, nullable=False),
    sa.Column("total_calls", sa.BigInteger, nullable=False),
    sa.Column("total_cost", sa.Float, nullable=False),
    sa.Column("first_call_time", sa.Float, nullable=False),
    sa.Column("last_call_time", sa.Float, nullable=False),
    sa.Column("last_updated", sa.Float, nullable=False),
)

MAICRAFT_TABLES = (locations, tasks, token_usage)
