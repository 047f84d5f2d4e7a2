"""Bus channels the IaC replicas share (live only; the database holds every durable fact)."""

from __future__ import annotations

TASK_KIND = "iac.task"
AGENT_KIND = "iac.agent"

# {"agent_id", "message": {"type", "payload"}}: the replica holding the agent's C&C connection sends it;
# {"agent_id", "replaced_by": conn_id}: a newer connection took over; other replicas drop theirs.
CONTROL = "iac.control"
# {}: a task was added or an agent freed up somewhere; every replica's dispatcher looks again.
WAKE = "iac.wake"


def log_channel(task_id: int) -> str:
    """`log_stream` lines of one task, for operators watching on any replica."""
    return f"iac.logs.{task_id}"
