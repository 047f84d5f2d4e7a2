"""Unknown events, malformed payloads, results for unknown tasks, oversized payloads: refused, never fatal."""

from __future__ import annotations

import asyncio

import httpx

from tests.integration.devices.conftest import DeviceFactory, dispatch


async def test_unknown_event_and_unregistered_device(device: DeviceFactory) -> None:
    dev = await device(register=False)
    await dev.client.emit("reboot_everything", {"now": True})
    assert (await dev.next("error"))["error_code"] == "UNKNOWN_EVENT"
    await dev.client.emit("task_result", {"task_id": "x", "result": {}})
    assert (await dev.next("error"))["error_code"] == "NOT_REGISTERED"
    await dev.client.emit("heartbeat", {})
    assert (await dev.next("error"))["error_code"] == "NOT_REGISTERED"


async def test_malformed_register(device: DeviceFactory) -> None:
    dev = await device(register=False)
    for payload in ({}, {"device_id": ""}, "android_001", None, {"device_id": ["x"]}):
        await dev.client.emit("device_register", payload)
        assert await dev.next("register_error") == {
            "message": "设备ID不能为空",
            "error_code": "MISSING_DEVICE_ID",
        }
    for device_id in ("x" * 500, "a\x00b"):
        await dev.client.emit("device_register", {"device_id": device_id})
        assert (await dev.next("register_error"))["error_code"] == "INVALID_DEVICE_ID"


async def test_malformed_task_events(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    dev = await device()
    await dev.client.emit("task_result", {"result": {}})
    assert (await dev.next("error"))["error_code"] == "INVALID_PAYLOAD"
    await dev.client.emit("task_result", "not an object")
    assert (await dev.next("error"))["error_code"] == "INVALID_PAYLOAD"
    await dev.client.emit("task_result", {"task_id": "no-such-task", "result": {"success": True}})
    error = await dev.next("error")
    assert error["error_code"] == "TASK_NOT_FOUND" and error["message"] == "任务不存在"
    task_id = (await dispatch(http))["task_id"]
    await dev.next("new_task")
    await dev.client.emit("task_result", {"task_id": task_id, "result": "done"})
    assert (await dev.next("error"))["error_code"] == "INVALID_PAYLOAD"
    await dev.client.emit("task_progress", {"task_id": task_id, "progress": "lots"})
    assert (await dev.next("error"))["error_code"] == "INVALID_PAYLOAD"
    await dev.client.emit("task_progress", {"task_id": task_id, "progress": 250})  # clamped, not refused
    await dev.result(task_id)
    await dev.next("task_result_ack")
    assert dev.pending("error") == 0


async def test_result_from_another_device_is_refused(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    holder = await device("holder")
    task_id = (await dispatch(http, device_id="holder"))["task_id"]
    await holder.next("new_task")
    intruder = await device("intruder")
    await intruder.result(task_id)
    assert (await intruder.next("error"))["error_code"] == "TASK_NOT_HELD"
    status = (await http.get(f"/api/task/{task_id}/status")).json()["task"]["status"]
    assert status == "dispatched"


async def test_oversized_socket_message_drops_only_that_connection(device: DeviceFactory) -> None:
    big = await device("big")
    small = await device("small")
    await big.client.emit("heartbeat", {"blob": "x" * 2_000_000})
    for _ in range(100):
        if not big.client.connected:
            break
        await asyncio.sleep(0.05)
    assert not big.client.connected
    await small.client.emit("heartbeat", {"device_id": "small"})
    assert await small.next("heartbeat_ack")


async def test_http_bad_input(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/api/dispatch-task", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["success"] is False and r.json()["error_code"] == "INVALID_JSON"
    r = await http.post("/api/dispatch-task", json=["DELIST"])
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMS"
    r = await http.post("/api/dispatch-task", content=b"x" * 2_000_000)
    assert r.status_code == 413
    assert r.json() == {"success": False, "message": "请求体过大", "error_code": "PAYLOAD_TOO_LARGE"}
    r = await http.get("/api/nothing-here")
    assert r.status_code == 404 and r.json() == {
        "success": False,
        "message": "资源不存在",
        "error_code": "NOT_FOUND",
    }
    r = await http.get("/api/tasks", params={"limit": "many"})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMS"
    r = await http.get("/api/tasks", params={"status": "weird"})
    assert r.status_code == 400
    r = await http.post(
        "/api/dispatch-task", json={"task_type": "DELIST", "data": {"product_ids": []}, "timeout": 0}
    )
    assert r.status_code == 400
