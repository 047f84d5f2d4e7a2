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
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from agenthub.core.engine import NODES_CHANNEL, Engine, job_channel
from agenthub.core.errors import EngineError, InvalidTransition, LeaseMismatch
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
from agenthub.protocols.devices.fleet import Fleet
from agenthub.protocols.devices.repository import DevicesRepository, Registration
from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.protocols.devices.tasks import (
    ACTIVE,
    HELD,
    SEED_STATUS,
    TASK_KIND,
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
# Engine events after which the device no longer holds the task (it has room again).
HOLD_ENDS = frozenset({"success", "fail", *STOP_EVENTS})
# The fleet's held tasks are read again every this many presence loads (they are kept current in between).
HELD_RELOAD_EVERY = 15
MAX_REMEMBERED = 100_000  # bounds the in-memory maps below; past it they start again (a cache, not state)
ORPHANS_PER_SWEEP = 500
PENDING_PER_LOOK = 500
LEASE_GRACE = timedelta(seconds=30)  # queued tasks the dispatcher reads at once
MAX_TASK_ID = 128
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

    def connected_here(self, device_id: str) -> bool:
        """Whether the device has a connection to this process."""


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
        # Who is online and holds what, in memory: a dispatch chooses and reserves a device without a read
        # or a lock (see fleet.py).
        self.fleet = Fleet()
        self._fleet_lock = asyncio.Lock()  # one load at a time
        self._fleet_loads = 0
        # Jobs this process is leasing and pushing itself: the dispatcher leaves them alone, and their
        # `leased` announcement needs no push (the task went out from the job in hand).
        self._inflight: set[int] = set()
        self._job_ids: dict[str, int] = {}  # task_id -> job id, so a device's report needs no lookup
        self._wake = asyncio.Event()
        self._maybe_pending = True  # a task may wait in the queue: the dispatcher must look

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def wake(self) -> None:
        self._wake.set()

    # -- the fleet, in memory ---------------------------------------------------------------------

    async def fresh_fleet(self) -> Fleet:
        """The fleet, loaded again first when older than `fleet_refresh_seconds` (devices registered on
        other replicas appear then; what happens on this one is in it at once)."""
        loaded = self.fleet.presence_loaded_at
        if loaded is None or time.monotonic() - loaded >= self.settings.fleet_refresh_seconds:
            async with self._fleet_lock:
                loaded = self.fleet.presence_loaded_at
                if loaded is None or time.monotonic() - loaded >= self.settings.fleet_refresh_seconds:
                    await self._load_fleet()
        return self.fleet

    async def _load_fleet(self) -> None:
        at = time.monotonic()
        with_held = self._fleet_loads % HELD_RELOAD_EVERY == 0
        self.fleet.begin_load()
        try:
            registrations = await self.repo.connected()
            nodes = await self.engine.nodes(NODE_KIND)
            held = None
            if with_held:
                held, _total = await self.engine.find(JobQuery(TASK_KIND, statuses=HELD), limit=MAX_HELD)
        except BaseException:
            self.fleet.abort_load()
            raise
        self.fleet.finish_load(at, registrations, nodes, held)
        self._fleet_loads += 1

    def _is_online(self) -> Callable[[AgentNode], bool]:
        """The engine's presence rule for device nodes, with the clock read once (a choice looks at many)."""
        now, window = self.now(), self.engine.silence(NODE_KIND)
        # A device an operator disabled (the console) is passed over, like an offline one: it leases nothing.
        return lambda node: node.is_online(now, window) and not node.disabled

    def _fleet_device(self, device_id: str) -> Device:
        node = self.fleet.nodes[device_id]
        return Device(self.fleet.registrations[device_id], node.last_seen_at, True)

    def _remember(self, job: Job) -> None:
        if job.external_id is not None:
            if len(self._job_ids) >= MAX_REMEMBERED:
                self._job_ids.clear()
            self._job_ids[job.external_id] = job.id

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
        return [d for d in await self._devices(await self.repo.connected()) if d.online]

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
        device = await self._choose(device_id)  # its room is reserved until the lease is recorded
        try:
            submitted = await self.engine.submit(
                NewJob(
                    kind=TASK_KIND,
                    type=task_type,
                    payload={"data": validated, "timeout": timeout},
                    external_id=str(uuid.uuid4()),
                    target_node=device_id,
                    max_attempts=self.settings.max_retries + 1,
                    # With a device chosen, the job is not due for any dispatcher (another replica's would
                    # race this call for it) until long after this call leases it; if this process dies
                    # in between, it becomes due then.
                    scheduled_at=self.now() + LEASE_GRACE if device is not None else None,
                )
            )
            assert submitted is not None  # no dedupe key, so never refused
            if device is None:
                return Dispatched(submitted, None)
            leased = await self._lease_and_push(submitted, device.device_id)
        finally:
            if device is not None:
                self.fleet.unreserve(device.device_id)
        if leased is None:  # another replica's dispatcher took it first: say where it is
            return Dispatched(await self.engine.get(submitted.id), None)
        return Dispatched(leased, device)

    async def _lease_and_push(self, job: Job, device_id: str) -> Job | None:
        """Leases the pending job to the device and pushes it there from the job in hand (no read); None
        when the job was no longer pending."""
        if len(self._inflight) >= MAX_REMEMBERED:
            self._inflight.clear()
        self._inflight.add(job.id)
        lease_for = timedelta(seconds=int(job.payload.get("timeout") or 300))
        try:
            change: Change = await self.engine.lease_one(job.id, node_id=device_id, lease_for=lease_for)
        except InvalidTransition:
            self._inflight.discard(job.id)
            return None
        self.fleet.leased(job.id, device_id)
        self._remember(change.job)
        try:
            with self.runtime.metrics.push_timer("devices"):
                await self.push.send_task(device_id, new_task_payload(change.job))
        except Exception:  # committed: the device gets it again when it registers again
            log.exception("could not push task %s to %s", change.job.external_id, device_id)
        return change.job

    async def _choose(self, device_id: str | None) -> Device | None:
        """The device for a new task, with a place reserved on it; None when every device is full."""
        fleet = await self.fresh_fleet()
        capacity = self.settings.max_concurrent_tasks
        is_online = self._is_online()
        if device_id is not None:
            if not fleet.online(device_id, is_online):
                # Not online here: maybe registered on another replica since the fleet was loaded.
                device = await self.device(device_id)
                if device is None:
                    raise DeviceNotFound(device_id)
                node = await self.engine.node(NODE_KIND, device_id)
                if not device.online or node is None or node.disabled:
                    raise DeviceOffline(device_id)
                fleet.seen(node, device.registration)
            if fleet.load(device_id) >= capacity:
                raise DeviceBusy(device_id)
            fleet.reserve(device_id)
            return self._fleet_device(device_id)
        chosen = fleet.least_busy(is_online, capacity)
        if chosen is None:
            if not fleet.online_ids(is_online):
                raise NoDeviceAvailable()
            return None
        fleet.reserve(chosen)
        return self._fleet_device(chosen)

    async def task(self, task_id: str) -> Job:
        if "\x00" in task_id or len(task_id) > MAX_TASK_ID:
            raise TaskNotFound(task_id)  # never an id we gave out; the same answer on every database
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
        name = name.replace("\x00", "") if isinstance(name, str) else None  # a display name: NULs dropped
        name = name or f"设备_{device_id[:8]}"
        device_type = str(info.get("type") or "android")[:64]
        version = str(info.get("app_version") or "") or None
        registration = Registration(device_id, name[:255], device_type, info, sid, self.now())
        before = await self.repo.register(
            device_id=device_id,
            name=registration.device_name,
            device_type=device_type,
            info=info,
            sid=sid,
            now=registration.registered_at,
        )
        # Seen only once this connection is the registered one: the previous connection's disconnect, if it
        # is handled meanwhile, then either finds itself replaced (and leaves the node alone) or marks the
        # node offline before this sighting marks it online again, never after.
        node = await self.engine.node_seen(NodeSighting(kind=NODE_KIND, node_id=device_id, version=version))
        self.fleet.seen(node, registration)
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
        self.fleet.seen(await self.engine.node_seen(NodeSighting(kind=NODE_KIND, node_id=device_id)))
        return True

    async def disconnected(self, device_id: str, sid: str) -> None:
        if not await self.repo.detach(device_id, sid):
            return  # it already reconnected elsewhere: its tasks stay with it
        self.fleet.gone(device_id)
        await self.engine.node_gone(NODE_KIND, device_id)
        registration = await self.repo.get(device_id)
        if registration is not None and registration.sid is not None:
            # It registered again on a new connection while this one was let go, and its sighting may have
            # been written before the offline mark: the new connection stands.
            node = await self.engine.node_seen(NodeSighting(kind=NODE_KIND, node_id=device_id))
            self.fleet.seen(node, registration)
        await self._release_all(await self.held_by(device_id), "设备断开连接")

    async def progress(self, device_id: str, task_id: str, percent: int, message: str | None) -> Job:
        """Records a progress report; one that comes after the device's own result is ignored (its last
        report can cross its result on the way), anything else on a task it does not hold is refused."""
        job_id = await self._job_id(task_id)
        try:
            change: Change = await self.engine.progress(
                job_id, LeaseRef(device_id), percent=percent, message=message
            )
        except LeaseMismatch:
            job = await self.engine.get(job_id)
            if _reported_by(job, device_id):
                return job
            raise
        return change.job

    async def _job_id(self, task_id: str) -> int:
        job_id = self._job_ids.get(task_id)
        return job_id if job_id is not None else (await self.task(task_id)).id

    async def result(self, device_id: str, task_id: str, result: dict[str, Any]) -> Job:
        job_id = await self._job_id(task_id)
        message = result.get("message") if isinstance(result.get("message"), str) else None
        lease = LeaseRef(device_id)
        change: Change
        if result.get("success", True) is False:
            # A failure the device reports is final: retrying a half-done delist or upload is not safe.
            change = await self.engine.fail(
                job_id, lease, error_code="TASK_FAILED", message=message, result=result, retryable=False
            )
        else:
            change = await self.engine.complete(job_id, lease, result=result, message=message)
        return change.job

    # -- background loops -------------------------------------------------------------------------

    async def dispatch_step(self) -> None:
        woken = False
        with contextlib.suppress(TimeoutError):
            woken = await asyncio.wait_for(self._wake.wait(), self.settings.dispatch_interval_seconds)
        self._wake.clear()
        if woken and not self._maybe_pending:
            return  # room freed up, but nothing waits for it (the interval still looks now and then)
        await self.dispatch_pending()

    async def dispatch_pending(self) -> int:
        """Gives waiting tasks to devices with room; returns how many were dispatched."""
        self._maybe_pending = False  # cleared first: a task queued during the look sets it again
        due = JobQuery(TASK_KIND, statuses=(JobStatus.PENDING,), due_at=self.now(), order="queue")
        if not await self.engine.count(due):
            return 0  # the common case: nothing waits, so no device queries
        fleet = await self.fresh_fleet()
        capacity = self.settings.max_concurrent_tasks
        online = fleet.online_ids(self._is_online())
        free = sum(max(0, capacity - fleet.load(d)) for d in online)
        if not free:
            self._maybe_pending = True
            return 0
        limit = min(free * 4, PENDING_PER_LOOK)
        waiting, _total = await self.engine.find(replace(due, due_at=self.now()), limit=limit)
        dispatched = 0
        for job in waiting:
            if job.id in self._inflight:
                continue  # a dispatch call is leasing it right now
            device_id = self._place(job, fleet, capacity)
            if device_id is None:
                self._maybe_pending = True
                continue
            fleet.reserve(device_id)
            try:
                leased = await self._lease_and_push(job, device_id)
            finally:
                fleet.unreserve(device_id)
            dispatched += leased is not None
        return dispatched

    def _place(self, job: Job, fleet: Fleet, capacity: int) -> str | None:
        is_online = self._is_online()
        if job.target_node is not None:
            target = job.target_node
            return target if fleet.online(target, is_online) and fleet.load(target) < capacity else None
        return fleet.least_busy(is_online, capacity)

    async def sweep(self) -> None:
        """Connections of devices the engine no longer counts as online are closed; tasks held by offline or
        unknown devices go back to the queue."""
        live: list[str] = []
        # A registration is written before its sighting (register()): one that is younger than the silence
        # window is a device coming online, not a silent one, whatever its node row says yet.
        registered_after = self.now() - self.engine.silence(NODE_KIND)
        for device in await self._devices(await self.repo.connected()):
            if device.online or device.registration.registered_at > registered_after:
                live.append(device.device_id)
            elif device.registration.sid is not None:
                # Silent past the window. Closing is a no-op when it is connected to another replica (which
                # closes it on its own sweep); a heartbeat that still arrives there brings it back online.
                await self.push.drop(device.registration.sid)
        # Who holds tasks (one GROUP BY over the held ones), then the tasks of those not online: no query
        # naming every live device (1,000 ids cost the event loop tens of milliseconds per sweep).
        online = set(live)
        orphans: list[Job] = []
        for device_id in await self.held_counts():
            if device_id not in online and len(orphans) < ORPHANS_PER_SWEEP:
                orphans += (await self.held_by(device_id))[: ORPHANS_PER_SWEEP - len(orphans)]
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
        event, node_id, job_id = message.get("event"), message.get("node_id"), message.get("job_id")
        if not isinstance(job_id, int):
            return
        if event == "leased" and node_id:
            self.fleet.leased(job_id, node_id)
            if job_id in self._inflight:
                self._inflight.discard(job_id)  # leased and pushed by this process already
            elif self.push.connected_here(node_id):  # leased by another replica, to a device connected here
                job = await self.runtime.engine.get(job_id)
                if job.status is JobStatus.LEASED and job.leased_by == node_id:
                    self._remember(job)
                    with self.runtime.metrics.push_timer("devices"):
                        await self.push.send_task(node_id, new_task_payload(job))
            return
        if message.get("status") == JobStatus.PENDING.value and job_id not in self._inflight:
            self._maybe_pending = True  # created, or back in the queue: the dispatcher must look
            self.wake()
        if event in HOLD_ENDS:
            if node_id:
                self.fleet.ended(job_id, node_id)
            if self._maybe_pending:
                self.wake()  # a device has room again
        if event in STOP_EVENTS and node_id:
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

    # -- operators (the console) ------------------------------------------------------------------

    async def follow_operators(self) -> None:
        """Keeps the fleet in step with operators disabling and enabling devices (the engine announces it on
        `nodes`, from any replica), until cancelled: a disabled device is passed over at once."""
        async with self.runtime.bus.subscribe(NODES_CHANNEL) as subscription:
            async for _channel, message in subscription:
                if message.get("kind") != NODE_KIND:
                    continue
                node = await self.engine.node(NODE_KIND, str(message.get("node_id")))
                if node is not None:
                    self.fleet.seen(node)
                    self.wake()  # enabled: tasks may wait for it


def _reported_by(job: Job, device_id: str) -> bool:
    """The task ended with this device's own result (a task that timed out has no result)."""
    ended = job.status in (JobStatus.SUCCESS, JobStatus.FAILED)
    return ended and job.leased_by == device_id and job.result is not None


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
