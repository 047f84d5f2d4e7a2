"""What the operator console shows of IaC: each agent's plan/apply slots, a task's init/plan/apply output
as its logs, and why a task waits (its agents are running an apply, or plans an apply must wait for, or
another task holds its workspace)."""

from __future__ import annotations

from collections.abc import Sequence

from agenthub.core.jobs import Job, JobQuery
from agenthub.core.nodes import AgentNode
from agenthub.protocols.iac.channels import AGENT_KIND, TASK_KIND
from agenthub.protocols.iac.context import IacState
from agenthub.protocols.iac.records import APPLY_TYPES
from agenthub.protocols.iac.service import HELD
from agenthub.server.console_hooks import ConsoleHooks, LogLine, NodeLoad

PHASES = ("init", "plan", "apply")


async def _held(iac: IacState) -> dict[str, tuple[int, int]]:
    """(plans, applies) each agent holds on the engine."""
    counts = await iac.runtime.engine.count_by(JobQuery(TASK_KIND, statuses=HELD), "leased_by", "type")
    held: dict[str, tuple[int, int]] = {}
    for (agent_id, task_type), n in counts.items():
        if agent_id is None:
            continue
        plans, applies = held.get(agent_id, (0, 0))
        held[agent_id] = (plans, applies + n) if task_type in APPLY_TYPES else (plans + n, applies)
    return held


async def describe_load(iac: IacState, nodes: Sequence[AgentNode]) -> dict[str, NodeLoad]:
    held = await _held(iac)
    loads = {}
    for node in nodes:
        plans, applies = held.get(node.node_id, (0, 0))
        conn = iac.hub.connections.get(node.node_id)  # its own heartbeat, when it is connected here
        limit = conn.load.plan_limit if conn is not None else None
        if conn is not None:
            plans = max(plans, conn.load.plan_running)
            applies = max(applies, 1 if conn.load.apply_running else 0)
        text = f"plans {plans}/{limit if limit is not None else '?'}, apply {applies}/1"
        loads[node.node_id] = NodeLoad(text, {"plans": plans, "plan_limit": limit, "applies": applies})
    return loads


async def job_logs(iac: IacState, job: Job) -> list[LogLine]:
    lines = []
    for phase in PHASES:
        text = await iac.repo.log_text(job.id, phase)
        lines += [LogLine(at=None, level=phase, message=line) for line in text.splitlines() if line.strip()]
    return lines


async def pending_reasons(iac: IacState, job: Job) -> list[str]:
    engine = iac.runtime.engine
    agents = [n for n in await engine.nodes(AGENT_KIND, owner_id=job.owner_id) if engine.is_online(n)]
    agents = [n for n in agents if not n.disabled]
    if not agents:
        return []  # the console already says no agent of its application is online
    reasons = []
    held = await _held(iac)
    applying = [n.node_id for n in agents if held.get(n.node_id, (0, 0))[1] > 0]
    if len(applying) == len(agents):
        who = "the only agent" if len(agents) == 1 else f"every agent ({', '.join(applying)})"
        reasons.append(f"{who} of its application is running an apply")
    elif job.type in APPLY_TYPES and all(held.get(n.node_id, (0, 0))[0] > 0 for n in agents):
        reasons.append("an apply waits for an agent with no plan running; every agent is running plans")
    if job.type in APPLY_TYPES and job.subject_id is not None:
        busy = await engine.count(JobQuery(TASK_KIND, statuses=HELD, subject_id=job.subject_id))
        if busy:
            reasons.append("another task holds its workspace (applies on one workspace never overlap)")
    return reasons


CONSOLE = ConsoleHooks[IacState](
    node_kinds=(AGENT_KIND,),
    job_kinds=(TASK_KIND,),
    describe_load=describe_load,
    job_logs=job_logs,
    pending_reasons=pending_reasons,
)
