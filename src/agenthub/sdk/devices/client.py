"""DeviceClient: registers (and re-registers after every reconnect), heartbeats, runs one handler per task
type, reports progress and results, and turns the server's cancel_task into asyncio cancellation (and so an
`error` saying the device no longer holds a task it is working on: a cancel_task that never arrived)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import socketio

log = logging.getLogger(__name__)

# Error codes meaning the task is no longer this device's: whatever the handler still does is wasted.
LOST_TASK = frozenset({"TASK_NOT_HELD", "TASK_NOT_FOUND"})


@dataclass
class Task:
    task_id: str
    task_type: str
    data: dict[str, Any]
    timeout: int | None
    created_at: str | None
    _client: DeviceClient = field(repr=False)

    async def progress(self, percent: float, message: str = "") -> None:
        """Reports progress (0-100); the server moves the task to running."""
        await self._client.emit(
            "task_progress", {"task_id": self.task_id, "progress": percent, "message": message}
        )


TaskHandler = Callable[[Task], Awaitable[dict[str, Any] | None]]


class DeviceClient:
    def __init__(
        self,
        url: str,
        *,
        device_id: str,
        device_name: str | None = None,
        device_info: dict[str, Any] | None = None,
        heartbeat_interval: float = 30.0,
        reconnect: bool = True,
        register_timeout: float = 10.0,
        device_key: str | None = None,
    ) -> None:
        self.url = url
        self.device_id = device_id
        self.device_name = device_name
        self.device_info = device_info or {"type": "android"}
        self.heartbeat_interval = heartbeat_interval
        self.register_timeout = register_timeout
        self.device_key = device_key  # the server's AGENTHUB_DEVICES_DEVICE_KEY, when it sets one
        self.handlers: dict[str, TaskHandler] = {}
        self.running: dict[str, asyncio.Task[None]] = {}
        self.errors: list[dict[str, Any]] = []
        self.on_error: Callable[[dict[str, Any]], None] | None = None
        self._sio = socketio.AsyncClient(reconnection=reconnect)
        self._registered = asyncio.Event()
        self._closed = asyncio.Event()
        self._heartbeat: asyncio.Task[None] | None = None
        self._bind()

    # -- public -------------------------------------------------------------------------------------

    def task(self, task_type: str) -> Callable[[TaskHandler], TaskHandler]:
        """Decorator: `@device.task("DELIST")` runs the function for every DELIST task."""

        def register(handler: TaskHandler) -> TaskHandler:
            self.handlers[task_type] = handler
            return handler

        return register

    async def connect(self) -> None:
        auth = {"device_key": self.device_key} if self.device_key else None
        await self._sio.connect(
            self.url, transports=["websocket"], wait_timeout=self.register_timeout, auth=auth
        )
        await asyncio.wait_for(self._registered.wait(), self.register_timeout)
        self._heartbeat = asyncio.create_task(self._beat(), name=f"heartbeat-{self.device_id}")

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        await self._cancel_all()
        await self._sio.disconnect()
        self._closed.set()

    async def run_forever(self) -> None:
        await self._closed.wait()

    @property
    def registered(self) -> bool:
        return self._registered.is_set()

    async def wait_registered(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._registered.wait(), timeout)

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        await self._sio.emit(event, data)

    async def __aenter__(self) -> DeviceClient:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- events -------------------------------------------------------------------------------------

    def _bind(self) -> None:
        self._sio.on("connect", self._on_connect)
        self._sio.on("disconnect", self._on_disconnect)
        self._sio.on("register_success", self._on_registered)
        self._sio.on("register_error", self._on_error)
        self._sio.on("error", self._on_error)
        self._sio.on("new_task", self._on_new_task)
        self._sio.on("cancel_task", self._on_cancel_task)

    async def _on_connect(self) -> None:
        # Every (re)connection is a fresh session on the server: register again.
        payload: dict[str, Any] = {"device_id": self.device_id, "device_info": self.device_info}
        if self.device_name:
            payload["device_name"] = self.device_name
        await self._sio.emit("device_register", payload)

    async def _on_disconnect(self, *_reason: Any) -> None:
        self._registered.clear()
        # The server gives a disconnected device's tasks to others: stop working on them here.
        await self._cancel_all()

    async def _on_registered(self, _data: Any = None) -> None:
        self._registered.set()

    async def _on_error(self, data: Any = None) -> None:
        if isinstance(data, dict):
            self.errors.append(data)
            if self.on_error is not None:
                self.on_error(data)
            if data.get("error_code") in LOST_TASK:
                await self._on_cancel_task(data)
        log.warning("device %s: server error %s", self.device_id, data)

    async def _on_new_task(self, data: Any = None) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("task_id"), str):
            return
        task_id = data["task_id"]
        if task_id in self.running:
            return  # a re-sent task we are already working on
        task = Task(
            task_id=task_id,
            task_type=str(data.get("task_type")),
            data=data.get("data") or {},
            timeout=data.get("timeout"),
            created_at=data.get("created_at"),
            _client=self,
        )
        self.running[task_id] = asyncio.create_task(self._run(task), name=f"task-{task_id}")

    async def _on_cancel_task(self, data: Any = None) -> None:
        task_id = data.get("task_id") if isinstance(data, dict) else None
        runner = self.running.get(task_id) if isinstance(task_id, str) else None
        if runner is not None:
            runner.cancel()

    # -- running tasks ------------------------------------------------------------------------------

    async def _run(self, task: Task) -> None:
        started = time.monotonic()
        try:
            handler = self.handlers.get(task.task_type)
            if handler is None:
                result: dict[str, Any] = {"success": False, "message": f"no handler for {task.task_type}"}
            else:
                try:
                    result = {"success": True, **((await handler(task)) or {})}
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the device reports the failure instead of dying
                    log.exception("task %s failed", task.task_id)
                    result = {"success": False, "message": str(exc) or type(exc).__name__}
            result.setdefault("execution_time", round(time.monotonic() - started, 3))
            await self._sio.emit("task_result", {"task_id": task.task_id, "result": result})
        except asyncio.CancelledError:
            pass  # cancelled by the server, or our connection dropped: nothing to report
        finally:
            self.running.pop(task.task_id, None)

    async def _cancel_all(self) -> None:
        runners = list(self.running.values())
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            if self._sio.connected and self.registered:
                with contextlib.suppress(Exception):
                    await self._sio.emit("heartbeat", {"device_id": self.device_id, "timestamp": _now()})


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")
