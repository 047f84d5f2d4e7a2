"""What the IaC repository returns: plain records, no SQL types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

PLAN_TYPES = frozenset({"plan", "drift_check"})
APPLY_TYPES = frozenset({"apply", "plan_and_apply"})
TASK_TYPES = PLAN_TYPES | APPLY_TYPES

# The seed's and the original agent's statuses, stages and log phases; nothing else is accepted.
STATUSES = frozenset(
    {
        "pending",
        "waiting",
        "running",
        "apply_pending",
        "planned_and_finished",
        "success",
        "applied",
        "failed",
        "cancelled",
    }
)
FINAL_STATUSES = frozenset({"planned_and_finished", "success", "applied", "failed", "cancelled"})
# What an agent may move a task to; `pending`/`waiting` are the server's own.
AGENT_STATUSES = STATUSES - {"pending", "waiting"}
COMPLETED_AT_STATUSES = frozenset({"success", "failed", "applied"})
STAGES = frozenset(
    {
        "fetching",
        "init",
        "planning",
        "saving_plan",
        "restoring_plan",
        "applying",
        "saving_state",
        "completed",
    }
)
LOG_PHASES = frozenset({"init", "plan", "apply"})


@dataclass(frozen=True, slots=True)
class Application:
    id: int
    name: str
    app_key: str
    secret_hash: str


@dataclass(frozen=True, slots=True)
class AgentRecord:
    agent_id: str
    application_id: int
    name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    value: str
    category: str  # terraform | env
    sensitive: bool

    def as_dict(self, *, reveal: bool) -> dict[str, Any]:
        value = self.value if reveal or not self.sensitive else None
        return {"key": self.key, "value": value, "category": self.category, "sensitive": self.sensitive}


@dataclass(frozen=True, slots=True)
class Workspace:
    pk: int
    workspace_id: str
    name: str
    application_id: int
    terraform_version: str
    execution_mode: str
    provider_config: dict[str, Any] | None
    tf_code: dict[str, Any]
    system_variables: dict[str, Any] | None
    variables: tuple[Variable, ...]
    current_state_version: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TaskRecord:
    job_id: int
    workspace_id: str
    task_type: str
    status: str
    stage: str | None
    changes_add: int | None
    changes_change: int | None
    changes_destroy: int | None
    duration: int | None
    error_message: str | None
    context: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class StateVersion:
    workspace_id: str
    version: int
    content: str
    checksum: str
    size: int
    agent_checksum: str | None
    task_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChunkResult:
    next_offset: int
    saved_bytes: int
