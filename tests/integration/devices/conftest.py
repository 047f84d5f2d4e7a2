"""A devices server on an ephemeral port, and simulated devices as real python-socketio clients."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import socketio

from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.support.servers import serving

FAST = DevicesSettings(dispatch_interval_seconds=0.05, sweep_interval_seconds=0.05)


@pytest.fixture
def settings(database_url: str) -> Settings:
    settings = make_settings(database_url)
    settings.protocols["devices"] = FAST
    return settings


class Device:
    """One device: a Socket.IO client that keeps every event it receives, in order, per event name."""

    def __init__(self, url: str, device_id: str, name: str | None = None) -> None:
        self.url = url
        self.device_id = device_id
        self.name = name
        self.client = socketio.AsyncClient(reconnection=False)
        self.queues: dict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.client.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        self.queues[event].put_nowait(data)

    async def connect(self) -> Device:
        await self.client.connect(self.url, transports=["websocket"], wait_timeout=5)
        await self.next("connected")
        return self

    async def register(self, **extra: Any) -> dict[str, Any]:
        payload = {"device_id": self.device_id, "device_info": {"type": "android", "version": "13"}, **extra}
        if self.name is not None:
            payload["device_name"] = self.name
        await self.client.emit("device_register", payload)
        reply: dict[str, Any] = await self.next("register_success")
        return reply

    async def next(self, event: str, timeout: float = 5) -> Any:
        return await asyncio.wait_for(self.queues[event].get(), timeout)

    def pending(self, event: str) -> int:
        return self.queues[event].qsize()

    async def progress(self, task_id: str, progress: int, message: str = "") -> None:
        await self.client.emit(
            "task_progress", {"task_id": task_id, "progress": progress, "message": message}
        )

    async def result(self, task_id: str, **result: Any) -> None:
        await self.client.emit("task_result", {"task_id": task_id, "result": {"success": True, **result}})

    async def close(self) -> None:
        if self.client.connected:
            await self.client.disconnect()


DeviceFactory = Callable[..., Awaitable[Device]]


@pytest.fixture
async def devices_url(runtime: Runtime) -> AsyncIterator[str]:
    async with serving(runtime, "devices") as listeners:
        yield listeners.urls["devices"]


@pytest.fixture
async def http(devices_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=devices_url, timeout=10) as client:
        yield client


@pytest.fixture
async def device(devices_url: str) -> AsyncIterator[DeviceFactory]:
    made: list[Device] = []

    async def make(
        device_id: str = "android_001", name: str | None = "小米手机", register: bool = True
    ) -> Device:
        dev = await Device(devices_url, device_id, name).connect()
        made.append(dev)
        if register:
            await dev.register()
        return dev

    yield make
    for dev in made:
        await dev.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5) -> None:
    """Polls a condition (background loops run on short real intervals) instead of sleeping blindly."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def task_status(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    r = await http.get(f"/api/task/{task_id}/status")
    assert r.status_code == 200, r.text
    task: dict[str, Any] = r.json()["task"]
    return task


async def dispatch(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("task_type", "DELIST")
    body.setdefault("data", {"product_ids": ["123", "456"]})
    r = await http.post("/api/dispatch-task", json=body)
    assert r.status_code == 200, r.text
    reply: dict[str, Any] = r.json()
    return reply
