"""What the operator console shows of the devices protocol: each device's task count against its limit,
a task's progress reports as its logs, and "every eligible device is full" as a reason a task waits."""

from __future__ import annotations

from collections.abc import Sequence

from agenthub.core.jobs import Job
from agenthub.core.nodes import AgentNode
from agenthub.protocols.devices.app import DevicesState
from agenthub.protocols.devices.service import NODE_KIND
from agenthub.protocols.devices.tasks import TASK_KIND
from agenthub.server.console_hooks import ConsoleHooks, LogLine, NodeLoad

LOGGED_EVENTS = frozenset(
    {"start", "progress", "success", "fail", "timeout_requeued", "timeout", "cancelled"}
)


async def describe_load(state: DevicesState, nodes: Sequence[AgentNode]) -> dict[str, NodeLoad]:
    counts = await state.service.held_counts()
    capacity = state.service.settings.max_concurrent_tasks
    return {
        node.node_id: NodeLoad(
            f"{counts.get(node.node_id, 0)}/{capacity} tasks",
            {"tasks": counts.get(node.node_id, 0), "capacity": capacity},
        )
        for node in nodes
    }


async def job_logs(state: DevicesState, job: Job) -> list[LogLine]:
    """The device's progress reports (percent and message), as the engine recorded them."""
    lines = []
    for event in await state.service.engine.events(job.id):
        if event.type not in LOGGED_EVENTS:
            continue
        percent = (event.data or {}).get("progress")
        text = event.message or event.type
        if percent is not None:
            text = f"{percent}% {text}"
        lines.append(LogLine(at=event.created_at, level=event.type, message=text, data=event.data))
    return lines


async def pending_reasons(state: DevicesState, job: Job) -> list[str]:
    service = state.service
    disabled = {node.node_id for node in await service.engine.nodes(NODE_KIND) if node.disabled}
    online = [d for d in await service.online_devices() if d.device_id not in disabled]
    if not online:
        return []  # the console already says no device is online, or that they are disabled
    counts = await service.held_counts()
    capacity = service.settings.max_concurrent_tasks
    eligible = [d for d in online if job.target_node in (None, d.device_id)]
    if job.target_node is not None and not eligible:
        return [f"its device {job.target_node} is not connected"]
    if eligible and all(counts.get(d.device_id, 0) >= capacity for d in eligible):
        which = job.target_node or f"all {len(eligible)} online devices"
        return [f"every eligible device is full ({which}: {capacity}/{capacity} tasks each)"]
    return []


CONSOLE = ConsoleHooks[DevicesState](
    node_kinds=(NODE_KIND,),
    job_kinds=(TASK_KIND,),
    describe_load=describe_load,
    job_logs=job_logs,
    pending_reasons=pending_reasons,
)
