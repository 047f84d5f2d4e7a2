"""The devices protocol's behaviour over the engine: dispatch, the pending queue, devices coming and going.

Tasks are engine jobs of kind `devices.task`: the task_id is the job's external_id, the device holding a task
is its lease holder, and the lease lasts the task's timeout (so a task that runs too long is requeued or
failed by the engine's reaper). Pushes to devices follow the engine's announcements on the bus, so a device
gets its `new_task` from whichever replica it is connected to; the service says what to send through a
`DevicePush` and never touches Socket.IO itself.

Presence is the engine's: each device is a node of kind `devices` with the silence window
`offline_after_seconds`; the "busy" status and task counts are derived from the tasks devices hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from agenthub.core.engine import Engine, job_channel
from agenthub.core.errors import EngineError, InvalidTransition
from agenthub.core.jobs import Change, Job, JobQuery, JobStatus, KindPolicy, LeaseRef, NewJob
from agenthub.core.nodes import AgentNode, NodeSighting
from agenthub.protocols.devices.errors import (
    DeviceBusy,
    DeviceNotFound,
    DeviceOffline,
    NoDeviceAvailable,
    TaskFinished,
    TaskNotFound,
)
from agenthub.protocols.devices.repository import DevicesRepository, Registration
from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.protocols.devices.tasks import (
    ACTIVE,
    HELD,
    SEED_STATUS,
    TASK_KIND,
    least_busy,
    seed_device_status,
    timeout_for,
    validate_task,
)
from agenthub.server.runtime import Runtime

log = logging.getLogger(__name__)

TASK_POLICY = KindPolicy()
NODE_KIND = "devices"
# Engine events after which the device that held the task must stop working on it.
STOP_EVENTS = frozenset({"cancelled", "timeout", "timeout_requeued", "expired"})
WAKE_EVENTS = frozenset({"created", "success", "fail", *STOP_EVENTS})
ORPHANS_PER_SWEEP = 500
MAX_HELD = 10_000  # far above any device's limit: "all the tasks a device holds"


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value is not None else None


class DevicePush(Protocol):
    """What the service asks the transport to send; the Socket.IO namespace module implements it."""

    async def send_task(self, device_id: str, payload: dict[str, Any]) -> None:
        """A `new_task` to the device, wherever it is connected to this server."""

    async def cancel(self, device_id: str, task_id: str | None) -> None:
        """A `cancel_task`: the device must stop working on the task."""

    async def drop(self, sid: str) -> None:
        """Closes a connection (nothing happens when it is not connected here)."""


@dataclass(frozen=True, slots=True)
class Device:
    """A device as the seed shows it: its registration, and its presence as the engine keeps it."""

    registration: Registration
    last_heartbeat: datetime
    online: bool

    @property
    def device_id(self) -> str:
        return self.registration.device_id

    @property
    def device_name(self) -> str:
        return self.registration.device_name


@dataclass(frozen=True, slots=True)
class Dispatched:
    job: Job
    device: Device | None  # None: every device is full; the task waits in the queue


class DevicesService:
    def __init__(self, runtime: Runtime, settings: DevicesSettings, push: DevicePush) -> None:
        self.runtime = runtime
        self.settings = settings
        self.repo = DevicesRepository(runtime.db)
        self.push = push
        # Device choice and lease happen under one lock so two dispatches never overfill a device in this
        # process; replicas can overshoot by a task at worst (documented in docs/devices.md).
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def wake(self) -> None:
        self._wake.set()

    # -- presence, from the engine's node rows ------------------------------------------------------

    def _device(self, registration: Registration, node: AgentNode | None) -> Device:
        # Online: heard from within the node kind's silence window (the engine's rule) and still connected
        # (a disconnect is final even if a late heartbeat touched the node row meanwhile).
        online = node is not None and registration.sid is not None and self.engine.is_online(node)
        last = node.last_seen_at if node is not None else registration.registered_at
        return Device(registration, last, online)

    async def _devices(self, registrations: list[Registration]) -> list[Device]:
        nodes = {node.node_id: node for node in await self.engine.nodes(NODE_KIND)}
        return [self._device(r, nodes.get(r.device_id)) for r in registrations]

    async def devices(self) -> list[Device]:
        return await self._devices(await self.repo.all())

    async def online_devices(self) -> list[Device]:
        """Connected devices that may take tasks: online, and not disabled by an operator (the console)."""
        disabled = {node.node_id for node in await self.engine.nodes(NODE_KIND) if node.disabled}
        devices = await self._devices(await self.repo.connected())
        return [d for d in devices if d.online and d.device_id not in disabled]

    async def device(self, device_id: str) -> Device | None:
        registration = await self.repo.get(device_id)
        if registration is None:
            return None
        return self._device(registration, await self.engine.node(NODE_KIND, device_id))

    async def held_counts(self) -> dict[str, int]:
        """How many tasks each device holds (dispatched or running): the "busy" view is derived from it."""
        counts = await self.engine.count_by(JobQuery(TASK_KIND, statuses=HELD), "leased_by")
        return {device_id: n for (device_id,), n in counts.items() if device_id is not None}

    async def held_by(self, device_id: str) -> list[Job]:
        query = JobQuery(TASK_KIND, statuses=HELD, leased_by=device_id, order="oldest")
        jobs, _total = await self.engine.find(query, limit=MAX_HELD)
        return jobs

    async def active_tasks(self) -> int:
        return await self.engine.count(JobQuery(TASK_KIND, statuses=ACTIVE))

    # -- HTTP -------------------------------------------------------------------------------------

    async def dispatch(
        self, task_type: Any, data: Any, device_id: str | None, timeout: int | None = None
    ) -> Dispatched:
        validated = validate_task(task_type, data)
        timeout = timeout or timeout_for(task_type, self.settings)
        async with self._lock:
            device = await self._choose(device_id)
            submitted = await self.engine.submit(
                NewJob(
                    kind=TASK_KIND,
                    type=task_type,
                    payload={"data": validated, "timeout": timeout},
                    external_id=str(uuid.uuid4()),
                    target_node=device_id,
                    max_attempts=self.settings.max_retries + 1,
                )
            )
            assert submitted is not None  # no dedupe key, so never refused
            job = submitted
            if device is not None:
                change: Change = await self.engine.lease_one(
                    job.id, node_id=device.device_id, lease_for=timedelta(seconds=timeout)
                )
                job = change.job
        return Dispatched(job, device)

    async def _choose(self, device_id: str | None) -> Device | None:
        counts = await self.held_counts()
        capacity = self.settings.max_concurrent_tasks
        if device_id is not None:
            device = await self.device(device_id)
            if device is None:
                raise DeviceNotFound(device_id)
            if not device.online or device_id not in {d.device_id for d in await self.online_devices()}:
                raise DeviceOffline(device_id)  # a disabled device takes no task, like an offline one
            if counts.get(device_id, 0) >= capacity:
                raise DeviceBusy(device_id)
            return device
        online = {d.device_id: d for d in await self.online_devices()}
        if not online:
            raise NoDeviceAvailable()
        chosen = least_busy({d: counts.get(d, 0) for d in online}, capacity=capacity)
        return online[chosen] if chosen is not None else None

    async def task(self, task_id: str) -> Job:
        job = await self.runtime.engine.get_by_external_id(TASK_KIND, task_id)
        if job is None:
            raise TaskNotFound(task_id)
        return job

    async def cancel(self, task_id: str) -> Job:
        job = await self.task(task_id)
        try:
            change: Change = await self.engine.cancel(job.id, reason="任务已取消")
        except InvalidTransition as exc:
            raise TaskFinished(task_id) from exc
        return change.job

    # -- devices ----------------------------------------------------------------------------------

    async def register(self, sid: str, data: dict[str, Any]) -> str | None:
        """Registers the device on this connection; returns its previous connection when that one must be
        closed (the same device on a new connection: the old one must stop getting its tasks)."""
        device_id = str(data["device_id"])
        info = data.get("device_info") if isinstance(data.get("device_info"), dict) else {}
        assert isinstance(info, dict)
        name = data.get("device_name")
        name = name if isinstance(name, str) and name else f"设备_{device_id[:8]}"
        device_type = str(info.get("type") or "android")[:64]
        version = str(info.get("app_version") or "") or None
        await self.engine.node_seen(NodeSighting(kind=NODE_KIND, node_id=device_id, version=version))
        before = await self.repo.register(
            device_id=device_id, name=name[:255], device_type=device_type, info=info, sid=sid, now=self.now()
        )
        if before is not None and before.sid not in (None, sid):
            return before.sid
        return None

    async def held_tasks(self, device_id: str) -> list[dict[str, Any]]:
        """The `new_task` payloads of what the device holds: after a server restart a device reconnects
        still holding tasks, and gets them again."""
        return [new_task_payload(job) for job in await self.held_by(device_id)]

    async def heartbeat(self, device_id: str, sid: str) -> bool:
        """A heartbeat from the device's connection; False when that connection is no longer its own."""
        if not await self.repo.is_connected_on(device_id, sid):
            return False
        await self.engine.node_seen(NodeSighting(kind=NODE_KIND, node_id=device_id))
        return True

    async def disconnected(self, device_id: str, sid: str) -> None:
        if not await self.repo.detach(device_id, sid):
            return  # it already reconnected elsewhere: its tasks stay with it
        await self.engine.node_gone(NODE_KIND, device_id)
        await self._release_all(await self.held_by(device_id), "设备断开连接")

    async def progress(self, device_id: str, task_id: str, percent: int, message: str | None) -> Job:
        job = await self.task(task_id)
        change: Change = await self.engine.progress(
            job.id, LeaseRef(device_id), percent=percent, message=message
        )
        return change.job

    async def result(self, device_id: str, task_id: str, result: dict[str, Any]) -> Job:
        job = await self.task(task_id)
        message = result.get("message") if isinstance(result.get("message"), str) else None
        lease = LeaseRef(device_id)
        change: Change
        if result.get("success", True) is False:
            # A failure the device reports is final: retrying a half-done delist or upload is not safe.
            change = await self.engine.fail(
                job.id, lease, error_code="TASK_FAILED", message=message, result=result, retryable=False
            )
        else:
            change = await self.engine.complete(job.id, lease, result=result, message=message)
        return change.job

    # -- background loops -------------------------------------------------------------------------

    async def dispatch_step(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.settings.dispatch_interval_seconds)
        self._wake.clear()
        await self.dispatch_pending()

    async def dispatch_pending(self) -> int:
        """Gives waiting tasks to devices with room; returns how many were dispatched."""
        capacity = self.settings.max_concurrent_tasks
        dispatched = 0
        due = JobQuery(TASK_KIND, statuses=(JobStatus.PENDING,), due_at=self.now(), order="queue")
        if not await self.engine.count(due):
            return 0  # the common case: nothing waits, so no lock and no device queries
        async with self._lock:
            online = {d.device_id for d in await self.online_devices()}
            if not online:
                return 0
            counts = await self.held_counts()
            loads = {d: counts.get(d, 0) for d in online}
            free = sum(max(0, capacity - n) for n in loads.values())
            waiting, _total = await self.engine.find(replace(due, due_at=self.now()), limit=max(free, 1) * 4)
            for job in waiting:
                device_id = self._place(job, loads, capacity)
                if device_id is None:
                    continue
                lease_for = timedelta(seconds=int(job.payload.get("timeout") or 300))
                try:
                    await self.engine.lease_one(job.id, node_id=device_id, lease_for=lease_for)
                except InvalidTransition:
                    continue  # another replica took it
                loads[device_id] += 1
                dispatched += 1
        return dispatched

    @staticmethod
    def _place(job: Job, loads: dict[str, int], capacity: int) -> str | None:
        if job.target_node is not None:
            return job.target_node if loads.get(job.target_node, capacity) < capacity else None
        return least_busy(loads, capacity=capacity)

    async def sweep(self) -> None:
        """Connections of devices the engine no longer counts as online are closed; tasks held by offline or
        unknown devices go back to the queue."""
        live: list[str] = []
        for device in await self._devices(await self.repo.connected()):
            if device.online:
                live.append(device.device_id)
            elif device.registration.sid is not None:
                # Silent past the window. Closing is a no-op when it is connected to another replica (which
                # closes it on its own sweep); a heartbeat that still arrives there brings it back online.
                await self.push.drop(device.registration.sid)
        query = JobQuery(TASK_KIND, statuses=HELD, not_leased_by=tuple(live), order="oldest")
        orphans, _total = await self.engine.find(query, limit=ORPHANS_PER_SWEEP)
        await self._release_all(orphans, "设备离线")

    async def _release_all(self, held: list[Job], reason: str) -> None:
        for job in held:
            assert job.leased_by is not None
            try:
                await self.engine.release(job.id, LeaseRef(job.leased_by, job.lease_epoch), reason=reason)
            except EngineError:
                continue  # finished or moved on meanwhile
        if held:
            self.wake()

    async def push_step(self) -> None:
        """Turns the engine's announcements into pushes to the devices connected here, until cancelled."""
        async with self.runtime.bus.subscribe(job_channel(TASK_KIND)) as subscription:
            async for _channel, message in subscription:
                try:
                    await self._push(message)
                except Exception:
                    log.exception("could not push %s of job %s", message.get("event"), message.get("job_id"))

    async def _push(self, message: dict[str, Any]) -> None:
        event, node_id = message.get("event"), message.get("node_id")
        if event in WAKE_EVENTS:
            self.wake()
        if not node_id:
            return
        if event == "leased":
            job = await self.runtime.engine.get(int(message["job_id"]))
            if job.status is JobStatus.LEASED and job.leased_by == node_id:
                await self.push.send_task(node_id, new_task_payload(job))
        elif event in STOP_EVENTS:
            await self.push.cancel(node_id, message.get("external_id"))

    # -- views ------------------------------------------------------------------------------------

    async def device_views(self) -> list[dict[str, Any]]:
        counts = await self.held_counts()
        return [self.device_view(d, counts.get(d.device_id, 0)) for d in await self.devices()]

    def device_view(self, device: Device, task_count: int) -> dict[str, Any]:
        capacity = self.settings.max_concurrent_tasks
        status = seed_device_status(online=device.online, task_count=task_count, capacity=capacity)
        registration = device.registration
        return {
            "device_id": registration.device_id,
            "device_name": registration.device_name,
            "device_type": registration.device_type,
            "status": status,
            "last_heartbeat": iso(device.last_heartbeat),
            "task_count": task_count,
            "max_concurrent_tasks": capacity,
            "device_info": registration.device_info,
            "connection_info": {"sid": registration.sid, "registered_at": iso(registration.registered_at)},
        }


def new_task_payload(job: Job) -> dict[str, Any]:
    return {
        "type": "new_task",
        "task_id": job.external_id,
        "task_type": job.type,
        "data": job.payload.get("data", {}),
        "created_at": iso(job.created_at),
        "timeout": job.payload.get("timeout"),
    }


def task_view(job: Job) -> dict[str, Any]:
    progress = job.progress if job.progress is not None else (100 if job.status is JobStatus.SUCCESS else 0)
    return {
        "task_id": job.external_id,
        "task_type": job.type,
        "status": SEED_STATUS[job.status],
        "device_id": job.leased_by if job.status is not JobStatus.PENDING else None,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "data": job.payload.get("data", {}),
        "progress": progress,
        "result": job.result,
        "message": job.message,
        "attempts": job.attempts,
        "timeout": job.payload.get("timeout"),
    }
