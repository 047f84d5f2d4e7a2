"""Pushing tasks to their agents, off the request path: a task is created, the doorbell rings, and the push
loop sends it; pushes to different agents run side by side, so a slow agent never delays another.

Every push has a total deadline (httpx's timeouts are per operation, so an agent dripping a byte every few
seconds would never time out): an agent that has not taken the task (no receipt yet) within
`push_timeout_seconds` is cut off, and the task goes back to pending for a later push. An agent that has
taken it (its first receipt moved the task to running) may keep the push open while it works: the original
desktop agent runs the whole task inside the push request and answers only at the end. Such a push stays in
flight, and is never repeated, while the task runs, until the task ends or its time is up.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import httpx

from agenthub.core.errors import InvalidTransition, LeaseMismatch
from agenthub.core.jobs import Job, JobFilter, JobQuery, JobStatus, LeaseRef
from agenthub.protocols.comfyui.doorbell import Doorbell
from agenthub.protocols.comfyui.kinds import TASK_KIND
from agenthub.protocols.comfyui.records import Agent
from agenthub.protocols.comfyui.service import ComfyuiTasks, is_expired
from agenthub.protocols.comfyui.wire import fmt_time

log = logging.getLogger(__name__)

# What the original desktop agent does with a task (all syncs; no ComfyUI update, no restart).
ACTIONS = {
    "sync_models": True,
    "sync_plugins": True,
    "sync_workflows": True,
    "sync_comfyui": False,
    "restart": False,
}


class Pusher:
    def __init__(self, tasks: ComfyuiTasks, http: httpx.AsyncClient, doorbell: Doorbell) -> None:
        self.tasks = tasks
        self.engine = tasks.engine
        self.settings = tasks.settings
        self.http = http
        self.doorbell = doorbell
        # One push at a time per agent, in this process: the agent id's push, while its request is open.
        self.in_flight: dict[str, asyncio.Task[bool]] = {}
        self._stepping = False
        self._idle = asyncio.Event()
        self._idle.set()

    # -- the loop -----------------------------------------------------------------------------------------

    async def step(self) -> None:
        """One turn of the push loop: push what is due, then wait for the doorbell or the interval."""
        try:
            self._stepping = True
            self._idle.clear()
            self.doorbell.answer()  # a ring from now on is seen by the wait below
            try:
                await self.push_due()
            except Exception:
                log.exception("comfyui push loop failed; it will run again")
            finally:
                self._stepping = False
                self._check_idle()
            await self.doorbell.wait(self.settings.push_interval_seconds)
        except asyncio.CancelledError:
            await self.stop()
            raise

    async def push_due(self) -> None:
        await self.engine.expire_due()
        due = JobQuery(kind=TASK_KIND, statuses=(JobStatus.PENDING,), due_at=self.tasks.now())
        targets = [target for (target,) in await self.engine.count_by(due, "target_node") if target]
        for agent in await self.tasks.repo.allowed_agents(targets):
            if agent.agent_id not in self.in_flight:
                self._start(agent)

    def _start(self, agent: Agent) -> None:
        push = asyncio.create_task(self.push_to(agent), name=f"comfyui-push-{agent.agent_id}")
        self.in_flight[agent.agent_id] = push
        self._idle.clear()

        def done(_: asyncio.Task[bool]) -> None:
            if self.in_flight.get(agent.agent_id) is push:
                del self.in_flight[agent.agent_id]
            if not push.cancelled():
                if push.exception() is not None:
                    log.error("comfyui push to %s failed", agent.agent_id, exc_info=push.exception())
                elif push.result():
                    # The agent took a task and may have more waiting: look now, not at the next interval.
                    # (Only then: a push that found or delivered nothing must not spin the loop.)
                    self.doorbell.ring()
            self._check_idle()

        push.add_done_callback(done)

    def _check_idle(self) -> None:
        if self._stepping or self.in_flight or self.doorbell.rung:
            self._idle.clear()
        else:
            self._idle.set()

    async def settled(self) -> None:
        """Until nothing is being pushed and nothing is waiting to be (for tests and orderly checks)."""
        while not self._idle.is_set() or self.doorbell.rung:
            self._idle.clear()
            await self._idle.wait()

    async def stop(self) -> None:
        pushes = list(self.in_flight.values())
        for push in pushes:
            push.cancel()
        await asyncio.gather(*pushes, return_exceptions=True)

    # -- one push -----------------------------------------------------------------------------------------

    async def push_to(self, agent: Agent) -> bool:
        """Pushes the agent's next due task, if any; whether the agent took one."""
        leased = await self.engine.lease(
            JobFilter(kind=TASK_KIND, node_id=agent.agent_id),
            node_id=agent.agent_id,
            limit=1,
            lease_for=timedelta(seconds=self.settings.task_ttl_seconds),
        )
        for job in leased:
            try:
                problem = await self._deliver(agent, job)
            except asyncio.CancelledError:
                # The platform is stopping: a task the agent has not taken is pending again at once.
                await self._take_back(job, "platform stopping")
                raise
            if problem is not None:
                await self._take_back(job, problem)
                return False
            return True
        return False

    def push_body(self, agent: Agent, job: Job) -> dict[str, Any]:
        """Both key styles: ours (camelCase, manifestId) and the original desktop agent's (snake_case,
        manifest_url, actions); a fresh task token on every push, its nonce beside it."""
        issued = self.tasks.task_token(job)
        manifest_id = job.payload.get("manifest_id")
        expires_at = fmt_time(job.deadline) if job.deadline else None
        return {
            "taskId": job.external_id,
            "agentId": agent.agent_id,
            "manifestId": manifest_id,
            "expiresAt": expires_at,
            "task_id": job.external_id,
            "agent_id": agent.agent_id,
            "manifest_url": self.tasks.manifest_url(job),
            "actions": ACTIONS,
            "expires_at": expires_at,
            "token": issued.token,
            "nonce": issued.nonce,
        }

    async def _deliver(self, agent: Agent, job: Job) -> str | None:
        """POSTs the task to the agent, within the push's deadline; the reason it was not taken, or None."""
        url = agent.base_url.rstrip("/") + "/tasks"
        # Connecting is bounded by httpx; everything after by the deadlines below.
        timeout = httpx.Timeout(None, connect=self.settings.push_timeout_seconds)
        request = asyncio.create_task(self.http.post(url, json=self.push_body(agent, job), timeout=timeout))
        try:
            with self.tasks.runtime.metrics.push_timer("comfyui"):
                return await self._await_push(request, job)
        except TimeoutError:
            return "the task's time is up"
        finally:
            if not request.done():
                request.cancel()
                # Its own cancellation or error is the result here; a cancellation of this push still ends it.
                await asyncio.gather(request, return_exceptions=True)

    async def _await_push(self, request: asyncio.Task[httpx.Response], job: Job) -> str | None:
        async with asyncio.timeout(self._until_deadline(job)):
            while True:
                done, _ = await asyncio.wait({request}, timeout=self.settings.push_timeout_seconds)
                if done:
                    return _outcome(request)
                current = await self.engine.get(job.id)
                if current.status is JobStatus.LEASED:
                    return f"no answer within {self.settings.push_timeout_seconds:g} s"
                if not self._working(current, job):
                    # It reported its end (or its time is up) but holds the push open: not a failure.
                    return None
                # The agent took the task and works on it inside the push request: keep waiting.

    def _working(self, current: Job, pushed: Job) -> bool:
        return (
            current.status is JobStatus.RUNNING
            and current.lease_epoch == pushed.lease_epoch
            and not is_expired(current, self.tasks.now())
        )

    def _until_deadline(self, job: Job) -> float:
        if job.deadline is None:
            return float(self.settings.task_ttl_seconds)
        return max((job.deadline - self.tasks.now()).total_seconds(), 0.0)

    async def _take_back(self, job: Job, reason: str) -> None:
        def still_leased(current: Job) -> None:
            # If the agent already reported (it took the task after all), it keeps it.
            if current.status is not JobStatus.LEASED:
                raise InvalidTransition(current.id, current.status, "release")

        try:
            await self.engine.release(
                job.id, LeaseRef(job.leased_by or "", job.lease_epoch), reason=reason, guard=still_leased
            )
        except (InvalidTransition, LeaseMismatch):
            return
        log.info("task %s not pushed to %s (%s); retrying later", job.external_id, job.target_node, reason)


def _outcome(request: asyncio.Task[httpx.Response]) -> str | None:
    try:
        response = request.result()
    except httpx.HTTPError as exc:
        return f"agent unreachable: {type(exc).__name__}"
    if response.is_success:
        return None
    return f"agent refused the task: HTTP {response.status_code}"
