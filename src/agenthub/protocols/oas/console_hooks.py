"""What the operator console shows of Oas: agents (nodes of kind `oas`, one manager each), their held task
and scan jobs, and the logs agents uploaded for the job's user while the job ran."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from agenthub.core.jobs import Job, JobQuery, JobStatus
from agenthub.core.nodes import AgentNode
from agenthub.protocols.oas.context import OasContext
from agenthub.protocols.oas.scan.records import SCAN_KIND
from agenthub.protocols.oas.service import NODE_KIND, TASK_KIND
from agenthub.server.console_hooks import ConsoleHooks, LogLine, NodeLoad

HELD = (JobStatus.LEASED, JobStatus.RUNNING)
LOG_LINES = 200
UPLOAD_GRACE = timedelta(minutes=2)


async def describe_load(oas: OasContext, nodes: Sequence[AgentNode]) -> dict[str, NodeLoad]:
    held: dict[str, dict[str, int]] = {}
    for kind, label in ((TASK_KIND, "tasks"), (SCAN_KIND, "scans")):
        counts = await oas.runtime.engine.count_by(JobQuery(kind, statuses=HELD), "leased_by")
        for (node_id,), n in counts.items():
            if node_id is not None:
                held.setdefault(node_id, {})[label] = n
    loads = {}
    for node in nodes:
        mine = held.get(node.node_id, {})
        text = f"{mine.get('tasks', 0)} tasks, {mine.get('scans', 0)} scans held"
        loads[node.node_id] = NodeLoad(text, {"held": sum(mine.values()), **mine})
    return loads


async def job_logs(oas: OasContext, job: Job) -> list[LogLine]:
    """What the job's agent uploaded for the job's user while it held the job (agents upload right after
    they report, hence the grace after the end)."""
    if job.subject_id is None or job.started_at is None:
        return []
    until = (job.finished_at or oas.runtime.clock.now()) + UPLOAD_GRACE
    entries = await oas.user_logs.uploaded_between(
        user_id=job.subject_id, node_id=job.leased_by, since=job.started_at, until=until, limit=LOG_LINES
    )
    return [LogLine(at=e.ts, level=e.level, message=e.message, data={"type": e.type}) for e in entries]


CONSOLE = ConsoleHooks[OasContext](
    node_kinds=(NODE_KIND,),
    job_kinds=(TASK_KIND, SCAN_KIND),
    describe_load=describe_load,
    job_logs=job_logs,
)
