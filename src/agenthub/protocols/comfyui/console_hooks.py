"""What the operator console shows of ComfyUI: each agent's latest heartbeat metrics, a task's events as
its logs, and why a task waits (the agent is not allowed, or the push cannot reach it since T)."""

from __future__ import annotations

from collections.abc import Sequence

from agenthub.core.jobs import Job
from agenthub.core.nodes import AgentNode
from agenthub.protocols.comfyui.context import ComfyuiContext
from agenthub.protocols.comfyui.kinds import NODE_KIND, TASK_KIND
from agenthub.server.console_hooks import ConsoleHooks, LogLine, NodeLoad

UNREACHABLE = "agent unreachable"


async def describe_load(comfy: ComfyuiContext, nodes: Sequence[AgentNode]) -> dict[str, NodeLoad]:
    agents = {agent.agent_id: agent for agent in await comfy.repo.list_agents()}
    loads = {}
    for node in nodes:
        agent = agents.get(node.node_id)
        if agent is None:
            continue
        metrics = agent.metrics or {}
        shown = ", ".join(f"{key} {value}" for key, value in list(metrics.items())[:4] if _scalar(value))
        text = shown or (agent.status or "no metrics yet")
        if not agent.allowed:
            text = f"not allowed; {text}"
        loads[node.node_id] = NodeLoad(text, {"status": agent.status, "metrics": metrics})
    return loads


async def job_logs(comfy: ComfyuiContext, job: Job) -> list[LogLine]:
    return [
        LogLine(at=event.created_at, level=event.level, message=event.message, data=event.payload)
        for event in await comfy.repo.events(job.id)
    ]


async def pending_reasons(comfy: ComfyuiContext, job: Job) -> list[str]:
    if job.target_node is None:
        return []
    agent = await comfy.repo.agent(job.target_node)
    if agent is None:
        return [f"its agent {job.target_node} is not registered"]
    if not agent.allowed:
        return [f"its agent {agent.agent_id} is not allowed to take tasks"]
    # The push loop takes a task back with "agent unreachable: ..." each time the POST fails; the first of
    # the latest unbroken run of those says since when.
    since = None
    for event in reversed(await comfy.runtime.engine.events(job.id)):
        if event.type == "timeout_requeued" and (event.message or "").startswith(UNREACHABLE):
            since = event.created_at
        elif event.type in ("leased", "created"):
            continue
        else:
            break
    if since is not None:
        return [f"ComfyUI agent {agent.agent_id} unreachable since {since.isoformat(timespec='seconds')}"]
    return []


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


CONSOLE = ConsoleHooks[ComfyuiContext](
    node_kinds=(NODE_KIND,),
    job_kinds=(TASK_KIND,),
    describe_load=describe_load,
    job_logs=job_logs,
    pending_reasons=pending_reasons,
)
