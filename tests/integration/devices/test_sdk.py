"""The Python SDK against the real server: handlers, progress, results, cancellation, reconnect."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from agenthub.protocols.devices.spec import SPEC
from agenthub.sdk.devices import DeviceClient, Task
from agenthub.server.runtime import Runtime
from tests.integration.devices.conftest import dispatch, eventually, task_status


async def test_sdk_runs_a_task_with_progress(devices_url: str, http: httpx.AsyncClient) -> None:
    seen: list[str] = []
    async with DeviceClient(devices_url, device_id="sdk_1", device_name="SDK") as device:

        @device.task("DELIST")
        async def delist(task: Task) -> dict[str, Any]:
            await task.progress(50, "half")
            seen.append(task.task_id)
            return {"processed_count": len(task.data["product_ids"]), "message": "下架完成"}

        task_id = (await dispatch(http))["task_id"]

        async def completed() -> bool:
            return bool((await task_status(http, task_id))["status"] == "completed")

        await eventually(completed)
    task = await task_status(http, task_id)
    assert seen == [task_id]
    assert task["result"]["processed_count"] == 2 and task["result"]["success"] is True


async def test_sdk_cancel_reaches_the_handler(devices_url: str, http: httpx.AsyncClient) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()
    async with DeviceClient(devices_url, device_id="sdk_2") as device:

        @device.task("COLLECT")
        async def collect(task: Task) -> dict[str, Any]:
            started.set()
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return {}

        task_id = (await dispatch(http, task_type="COLLECT", data={"target_url": "https://example.com"}))[
            "task_id"
        ]
        await asyncio.wait_for(started.wait(), 5)
        assert (await http.post(f"/api/task/{task_id}/cancel")).status_code == 200
        await asyncio.wait_for(cancelled.wait(), 5)
        assert not device.running


async def test_sdk_reconnects_and_registers_again(devices_url: str, http: httpx.AsyncClient) -> None:
    async with DeviceClient(devices_url, device_id="sdk_3") as device:
        await device._sio.eio.ws.close()  # the network drops under the client

        async def online_again() -> bool:
            devices = (await http.get("/api/devices")).json()["devices"]
            return device.registered and devices[0]["status"] == "online"

        await eventually(online_again, timeout=10)


async def test_sdk_stops_a_task_it_no_longer_holds(
    devices_url: str, http: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel_task push is lost; the next progress report is refused (TASK_NOT_HELD) and that stops the
    handler instead of letting it work on for nothing."""

    async def lost(_device_id: str, _task_id: str | None) -> None:
        return None

    monkeypatch.setattr(SPEC.state_of(runtime).service.push, "cancel", lost)
    started, cancelled = asyncio.Event(), asyncio.Event()
    async with DeviceClient(devices_url, device_id="sdk_4") as device:

        @device.task("COLLECT")
        async def collect(task: Task) -> dict[str, Any]:
            started.set()
            try:
                while True:  # a long job that reports as it goes
                    await task.progress(10)
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        task_id = (await dispatch(http, task_type="COLLECT", data={"target_url": "https://example.com"}))[
            "task_id"
        ]
        await asyncio.wait_for(started.wait(), 5)
        assert (await http.post(f"/api/task/{task_id}/cancel")).status_code == 200
        await asyncio.wait_for(cancelled.wait(), 5)
        assert {"error_code": "TASK_NOT_HELD", "task_id": task_id}.items() <= device.errors[-1].items()
