"""Cancel, devices lost mid-task, timeouts, silent devices, and a server restart with tasks in flight."""

from __future__ import annotations

import asyncio

import httpx

from agenthub.core.clock import ManualClock
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from agenthub.server.startup import open_runtime
from tests.integration.devices.conftest import Device, DeviceFactory, dispatch, eventually, task_status
from tests.support.servers import serving


async def _status(http: httpx.AsyncClient, task_id: str, status: str) -> bool:
    return bool((await task_status(http, task_id))["status"] == status)


async def test_cancel_reaches_the_device(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    dev = await device()
    task_id = (await dispatch(http))["task_id"]
    await dev.next("new_task")
    r = await http.post(f"/api/task/{task_id}/cancel")
    assert r.status_code == 200
    assert r.json() == {"success": True, "task_id": task_id, "status": "cancelled", "message": "任务已取消"}
    assert await dev.next("cancel_task") == {"type": "cancel_task", "task_id": task_id}
    assert (await task_status(http, task_id))["status"] == "cancelled"
    await dev.result(task_id)
    error = await dev.next("error")
    assert error["error_code"] == "TASK_NOT_HELD" and error["task_id"] == task_id
    assert (await task_status(http, task_id))["status"] == "cancelled"
    assert (await http.post(f"/api/task/{task_id}/cancel")).status_code == 200  # idempotent
    done = (await dispatch(http))["task_id"]
    await dev.next("new_task")
    await dev.result(done)
    await dev.next("task_result_ack")
    r = await http.post(f"/api/task/{done}/cancel")
    assert r.status_code == 409 and r.json()["error_code"] == "TASK_FINISHED"
    r = await http.post("/api/task/nope/cancel")
    assert r.status_code == 404 and r.json()["message"] == "任务不存在"


async def test_device_lost_mid_task_goes_to_another(
    device: DeviceFactory, http: httpx.AsyncClient, devices_url: str
) -> None:
    a = await device("a")
    task_id = (await dispatch(http))["task_id"]
    await a.next("new_task")
    await a.progress(task_id, 30)
    await eventually(lambda: _status(http, task_id, "running"))
    b = await device("b")
    await a.close()  # the device drops off mid-task
    pushed = await b.next("new_task")
    assert pushed["task_id"] == task_id
    task = await task_status(http, task_id)
    assert task["device_id"] == "b" and task["attempts"] == 1
    # "a" comes back and reports the task it no longer holds: refused, nothing changes.
    late = await Device(devices_url, "a").connect()
    try:
        await late.register()
        await late.result(task_id, message="too late")
        assert (await late.next("error"))["error_code"] == "TASK_NOT_HELD"
    finally:
        await late.close()
    await b.result(task_id, message="done by b")
    await b.next("task_result_ack")
    task = await task_status(http, task_id)
    assert task["status"] == "completed" and task["result"]["message"] == "done by b"


async def test_timeout_retries_then_fails(
    device: DeviceFactory, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    dev = await device()
    task_id = (await dispatch(http, timeout=100))["task_id"]
    assert (await dev.next("new_task"))["timeout"] == 100
    for attempt in range(1, 4):
        clock.advance(101)
        assert (await dev.next("cancel_task"))["task_id"] == task_id
        assert (await dev.next("new_task"))["task_id"] == task_id  # dispatched again
        await dev.client.emit("heartbeat", {"device_id": "android_001"})  # the device itself stays online
        await dev.next("heartbeat_ack")
        assert (await task_status(http, task_id))["attempts"] == attempt
    clock.advance(101)
    assert (await dev.next("cancel_task"))["task_id"] == task_id
    await eventually(lambda: _status(http, task_id, "failed"))
    assert (await task_status(http, task_id))["attempts"] == 4


async def test_silent_device_goes_offline_and_its_tasks_move(
    device: DeviceFactory, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    quiet = await device("quiet")
    task_id = (await dispatch(http, task_type="COLLECT", data={"target_url": "https://example.com"}))[
        "task_id"
    ]
    await quiet.next("new_task")
    clock.advance(301)  # no heartbeat for longer than 300 s; the task's own timeout is 600 s
    await eventually(lambda: _status(http, task_id, "pending"))
    devices = (await http.get("/api/devices")).json()["devices"]
    assert devices[0]["status"] == "offline"
    other = await device("other")
    assert (await other.next("new_task"))["task_id"] == task_id


async def test_restart_with_tasks_in_flight(runtime: Runtime, settings: Settings, clock: ManualClock) -> None:
    async with serving(runtime, "devices") as listeners:
        url = listeners.urls["devices"]
        dev = await Device(url, "android_001").connect()
        await dev.register()
        async with httpx.AsyncClient(base_url=url) as http:
            running = (await dispatch(http))["task_id"]
            await dev.next("new_task")
            await dev.progress(running, 50)
            await eventually(lambda: _status(http, running, "running"))
            for _ in range(2):
                await dispatch(http)
            queued = await dispatch(
                http, task_type="UPLOAD", data={"product_data": {"title": "t", "price": 1}}
            )
            assert queued["status"] == "pending"
        await dev.close()
    async with open_runtime(settings, clock=clock) as again, serving(again, "devices") as listeners:
        url = listeners.urls["devices"]
        dev = await Device(url, "android_001").connect()
        try:
            await dev.register()
            async with httpx.AsyncClient(base_url=url) as http:
                seen: set[str] = set()
                while queued["task_id"] not in seen:
                    task = await dev.next("new_task")
                    seen.add(task["task_id"])
                    await dev.result(task["task_id"])
                    await dev.next("task_result_ack")
                assert running in seen
                for task_id in (running, queued["task_id"]):
                    assert (await task_status(http, task_id))["status"] == "completed"
                assert (await http.get("/")).json()["active_tasks"] == 0
        finally:
            await dev.close()


async def test_reconnect_after_crash_gets_its_tasks_again(
    device: DeviceFactory, http: httpx.AsyncClient, runtime: Runtime
) -> None:
    dev = await device()
    task_id = (await dispatch(http))["task_id"]
    await dev.next("new_task")
    # The same device registers on a second connection (as after a server crash nobody saw): the old
    # connection is dropped, and the task it holds is pushed again to the new one.
    again = await device(register=False)
    await again.register()
    assert (await again.next("new_task"))["task_id"] == task_id
    await asyncio.sleep(0)
    await again.result(task_id)
    await again.next("task_result_ack")
    assert (await task_status(http, task_id))["status"] == "completed"
