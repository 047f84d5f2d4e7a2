"""The devices protocol's behaviour over the engine: dispatch, the pending queue, devices coming and going.

Tasks are engine jobs of kind `devices.task`: the task_id is the job's external_id, the device holding a task
is its lease holder, and the lease lasts the task's timeout (so a task that runs too long is requeued or
failed by the engine's reaper). Pushes to devices follow the engine's announcements on the bus, so a device
gets its `new_task` from whichever replica it is connected to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import socketio

from agenthub.core.engine import Engine, job_channel
from agenthub.core.errors import EngineError, InvalidTransition
from agenthub.core.jobs import Change, Job, JobStatus, KindPolicy, LeaseRef, NewJob
from agenthub.core.nodes import NodeSighting
from agenthub.protocols.devices.errors import TASK_NOT_FOUND, DevicesError
from agenthub.protocols.devices.repository import ONLINE, Device, DevicesRepository
from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.protocols.devices.tasks import (
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


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value is not None else None


@dataclass(frozen=True, slots=True)
class Dispatched:
    job: Job
    device: Device | None  # None: every device is full; the task waits in the queue


class DevicesService:
    def __init__(self, runtime: Runtime, settings: DevicesSettings, sio: socketio.AsyncServer) -> None:
        self.runtime = runtime
        self.settings = settings
        self.repo = DevicesRepository(runtime.db)
        self.sio = sio
        # Device choice and lease happen under one lock so two dispatches never overfill a device in this
        # process; replicas can overshoot by a task at worst (documented in docs/devices.md).
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def cutoff(self) -> datetime:
        return self.now() - timedelta(seconds=self.settings.offline_after_seconds)

    def is_online(self, device: Device) -> bool:
        return device.status == ONLINE and device.last_heartbeat >= self.cutoff()

    def wake(self) -> None:
        self._wake.set()

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
        counts = await self.repo.held_counts()
        capacity = self.settings.max_concurrent_tasks
        if device_id is not None:
            device = await self.repo.get(device_id)
            if device is None:
                raise DevicesError(404, "指定设备不存在", "DEVICE_NOT_FOUND")
            if not self.is_online(device):
                raise DevicesError(409, "指定设备不在线", "DEVICE_OFFLINE")
            if counts.get(device_id, 0) >= capacity:
                raise DevicesError(409, "指定设备任务已满", "DEVICE_BUSY")
            return device
        online = {d.device_id: d for d in await self.repo.online(self.cutoff())}
        if not online:
            raise DevicesError(503, "没有可用设备", "NO_AVAILABLE_DEVICE")
        chosen = least_busy({d: counts.get(d, 0) for d in online}, capacity=capacity)
        return online[chosen] if chosen is not None else None

    async def task(self, task_id: str) -> Job:
        job = await self.runtime.engine.get_by_external_id(TASK_KIND, task_id)
        if job is None:
            raise DevicesError(404, TASK_NOT_FOUND, "TASK_NOT_FOUND")
        return job

    async def cancel(self, task_id: str) -> Job:
        job = await self.task(task_id)
        try:
            change: Change = await self.engine.cancel(job.id, reason="任务已取消")
        except InvalidTransition as exc:
            raise DevicesError(409, "任务已结束，无法取消", "TASK_FINISHED") from exc
        return change.job

    # -- devices ----------------------------------------------------------------------------------

    async def register(self, sid: str, data: dict[str, Any]) -> Device:
        device_id = str(data["device_id"])
        info = data.get("device_info") if isinstance(data.get("device_info"), dict) else {}
        assert isinstance(info, dict)
        name = data.get("device_name")
        name = name if isinstance(name, str) and name else f"设备_{device_id[:8]}"
        device_type = str(info.get("type") or "android")[:64]
        now = self.now()
        before = await self.repo.register(
            device_id=device_id, name=name[:255], device_type=device_type, info=info, sid=sid, now=now
        )
        if before is not None and before.sid not in (None, sid):
            # The same device on a new connection: the old one (if it is ours) must stop getting its tasks.
            await self.sio.disconnect(before.sid)
        await self.engine.node_seen(
            NodeSighting(
                kind=NODE_KIND, node_id=device_id, version=str(info.get("app_version") or "") or None
            )
        )
        return (await self.repo.get(device_id)) or _never()

    async def resend_held(self, device_id: str, sid: str) -> None:
        """After a server restart a device reconnects still holding tasks: it gets them again."""
        for job in await self.repo.held_by(device_id):
            await self.sio.emit("new_task", new_task_payload(job), to=sid)

    async def heartbeat(self, device_id: str, sid: str) -> bool:
        alive = await self.repo.touch(device_id, sid, self.now())
        if alive:
            await self.engine.node_seen(NodeSighting(kind=NODE_KIND, node_id=device_id))
        return alive

    async def disconnected(self, device_id: str, sid: str) -> None:
        if not await self.repo.disconnected(device_id, sid):
            return  # it already reconnected elsewhere: its tasks stay with it
        await self.engine.node_gone(NODE_KIND, device_id)
        await self._release_all(await self.repo.held_by(device_id), "设备断开连接")

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
        if not await self.repo.pending(self.now(), limit=1):
            return 0  # the common case: nothing waits, so no lock and no device queries
        async with self._lock:
            online = {d.device_id for d in await self.repo.online(self.cutoff())}
            if not online:
                return 0
            counts = await self.repo.held_counts()
            loads = {d: counts.get(d, 0) for d in online}
            free = sum(max(0, capacity - n) for n in loads.values())
            for job in await self.repo.pending(self.now(), limit=max(free, 1) * 4):
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
        """Devices silent for too long go offline; tasks held by offline or unknown devices go back."""
        cutoff = self.cutoff()
        for device in await self.repo.mark_silent_offline(cutoff):
            await self.engine.node_gone(NODE_KIND, device.device_id)
            if device.sid is not None:
                await self.sio.disconnect(device.sid)  # a no-op when it is connected to another replica
        orphans = await self.repo.orphaned(cutoff)
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
                await self.sio.emit("new_task", new_task_payload(job), room=node_id)
        elif event in STOP_EVENTS:
            payload = {"type": "cancel_task", "task_id": message.get("external_id")}
            await self.sio.emit("cancel_task", payload, room=node_id)

    # -- views ------------------------------------------------------------------------------------

    async def device_views(self) -> list[dict[str, Any]]:
        counts = await self.repo.held_counts()
        return [self.device_view(d, counts.get(d.device_id, 0)) for d in await self.repo.all()]

    def device_view(self, device: Device, task_count: int) -> dict[str, Any]:
        capacity = self.settings.max_concurrent_tasks
        status = seed_device_status(online=self.is_online(device), task_count=task_count, capacity=capacity)
        return {
            "device_id": device.device_id,
            "device_name": device.device_name,
            "device_type": device.device_type,
            "status": status,
            "last_heartbeat": iso(device.last_heartbeat),
            "task_count": task_count,
            "max_concurrent_tasks": capacity,
            "device_info": device.device_info,
            "connection_info": {"sid": device.sid, "registered_at": iso(device.registered_at)},
        }


def _never() -> Device:
    raise RuntimeError("device vanished right after registering")


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
