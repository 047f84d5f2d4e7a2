"""Pushes waiting tasks to agents connected to this replica (each replica serves its own agents; the bus
wakes every replica when a task is added or an agent frees up anywhere).

The seed's rules: a task goes only to a connected agent of its workspace's application; plans run side by
side up to the agent's plan_limit; apply-type work (apply, plan_and_apply) is exclusive - one at a time and
only when no plan runs. We also never run apply-type work on a workspace another task holds, so two
applies cannot race on one state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from agenthub.core.errors import EngineError
from agenthub.core.jobs import Job, JobQuery, JobStatus, LeaseRef
from agenthub.protocols.iac.channels import TASK_KIND
from agenthub.protocols.iac.control import Connection, ControlHub
from agenthub.protocols.iac.records import APPLY_TYPES
from agenthub.protocols.iac.service import HELD, IacTasks

log = logging.getLogger(__name__)


@dataclass
class Slots:
    """An agent's load: the larger of what it reported and what it holds on the engine (its heartbeat
    lags behind the tasks we just pushed; the engine lags behind tasks it runs for no one else)."""

    plans: int
    applies: int
    plan_limit: int
    tasks: set[int] = field(default_factory=set)

    def can_take(self, task_type: str) -> bool:
        if self.applies > 0:
            return False
        if task_type in APPLY_TYPES:
            return self.plans == 0
        return self.plans < self.plan_limit

    def take(self, task_type: str) -> None:
        if task_type in APPLY_TYPES:
            self.applies += 1
        else:
            self.plans += 1


class Dispatcher:
    def __init__(self, tasks: IacTasks, hub: ControlHub, *, fallback_seconds: float) -> None:
        self.tasks = tasks
        self.hub = hub
        self.fallback = fallback_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def step(self) -> None:
        """Waits for a reason to look (or the safety-net interval), then pushes what it can."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.fallback)
        self._wake.clear()
        await self.dispatch()

    async def dispatch(self) -> int:
        connections = dict(self.hub.connections)
        if not connections:
            return 0
        engine = self.tasks.engine
        waiting, _ = await engine.find(
            JobQuery(kind=TASK_KIND, statuses=(JobStatus.PENDING,), due_at=engine.clock.now(), order="queue"),
            limit=200,
        )
        if not waiting:
            return 0
        held_query = JobQuery(kind=TASK_KIND, statuses=HELD)
        held = await engine.count_by(held_query, "leased_by", "type")
        busy_workspaces = {key[0] for key in await engine.count_by(held_query, "subject_id")}
        slots = {agent_id: _slots(conn, held) for agent_id, conn in connections.items()}
        pushed = 0
        for job in waiting:
            if job.type in APPLY_TYPES and job.subject_id in busy_workspaces:
                continue
            conn = _pick(job, connections, slots)
            if conn is None:
                continue
            if await self._push(job, conn):
                slots[conn.agent_id].take(job.type)
                busy_workspaces.add(job.subject_id)
                pushed += 1
        return pushed

    async def _push(self, job: Job, conn: Connection) -> bool:
        engine = self.tasks.engine
        try:
            change = await engine.lease_one(job.id, node_id=conn.agent_id, lease_for=self.tasks.lease_for)
        except EngineError:  # taken meanwhile (another replica) or cancelled
            return False
        payload = {"task_id": job.id, "workspace_id": job.payload.get("workspace_id"), "action": job.type}
        if await conn.send("run_task", payload):
            return True
        log.info("iac: run_task %s did not reach %s; back to the queue", job.id, conn.agent_id)
        with contextlib.suppress(EngineError):
            lease = LeaseRef(conn.agent_id, change.job.lease_epoch)
            await engine.release(job.id, lease, reason="run_task could not be delivered")
        return False


def _slots(conn: Connection, held: dict[tuple[object, ...], int]) -> Slots:
    plans = sum(n for (agent, kind), n in held.items() if agent == conn.agent_id and kind not in APPLY_TYPES)
    applies = sum(n for (agent, kind), n in held.items() if agent == conn.agent_id and kind in APPLY_TYPES)
    load = conn.load
    return Slots(
        plans=max(plans, load.plan_running),
        applies=max(applies, 1 if load.apply_running else 0),
        plan_limit=load.plan_limit,
    )


def _pick(job: Job, connections: dict[str, Connection], slots: dict[str, Slots]) -> Connection | None:
    candidates = [
        conn
        for conn in connections.values()
        if conn.application_id == job.owner_id and slots[conn.agent_id].can_take(job.type)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda conn: (slots[conn.agent_id].plans, conn.agent_id))
