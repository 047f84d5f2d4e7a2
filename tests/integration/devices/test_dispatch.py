"""The seed's round trip over real sockets: register, dispatch, progress, result, status, lists."""

from __future__ import annotations

import httpx

from tests.integration.devices.conftest import DeviceFactory, dispatch, eventually, task_status


async def test_connect_and_register(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    dev = await device(register=False)
    reply = await dev.register()
    assert reply["device_id"] == "android_001"
    assert reply["message"] == "注册成功"
    assert reply["server_time"]
    body = (await http.get("/api/devices")).json()
    assert body["success"] is True and body["total"] == 1
    [seen] = body["devices"]
    assert seen["device_id"] == "android_001"
    assert seen["device_name"] == "小米手机"
    assert seen["status"] == "online"
    assert seen["task_count"] == 0
    assert seen["connection_info"]["sid"]
    assert seen["connection_info"]["registered_at"]


async def test_default_name_and_system_status(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    await device("android_0123456789", name=None)
    [seen] = (await http.get("/api/devices")).json()["devices"]
    assert seen["device_name"] == "设备_android_"
    status = (await http.get("/")).json()
    assert status["system"] == "分布式任务系统"
    assert status["status"] == "running"
    assert status["port"] == 1888
    assert status["connected_devices"] == 1
    assert status["active_tasks"] == 0


async def test_dispatch_progress_result_status(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    dev = await device()
    reply = await dispatch(http, data={"product_ids": ["123", "456", "789"]})
    assert reply["success"] is True
    assert reply["device_id"] == "android_001"
    assert reply["device_name"] == "小米手机"
    assert reply["message"] == "任务分发成功"
    task_id = reply["task_id"]

    pushed = await dev.next("new_task")
    assert pushed["type"] == "new_task"
    assert pushed["task_id"] == task_id
    assert pushed["task_type"] == "DELIST"
    assert pushed["data"]["product_ids"] == ["123", "456", "789"]
    assert pushed["data"]["action"] == "delist"
    assert pushed["timeout"] == 300
    assert (await task_status(http, task_id))["status"] == "dispatched"

    await dev.progress(task_id, 60, "正在处理第2个商品...")
    await eventually(lambda: _status_is(http, task_id, "running"))
    assert (await task_status(http, task_id))["progress"] == 60

    await dev.result(task_id, processed_count=3, failed_count=0, message="下架完成")
    ack = await dev.next("task_result_ack")
    assert ack == {"task_id": task_id, "status": "received"}
    task = await task_status(http, task_id)
    assert task["status"] == "completed"
    assert task["progress"] == 100
    assert task["result"]["processed_count"] == 3
    assert task["result"]["message"] == "下架完成"
    assert task["updated_at"]

    tasks = (await http.get("/api/tasks")).json()
    assert tasks["success"] is True and tasks["total"] == 1
    assert tasks["tasks"][0]["task_id"] == task_id
    assert tasks["tasks"][0]["device_id"] == "android_001"
    assert tasks["tasks"][0]["data"]["product_ids"] == ["123", "456", "789"]


async def test_failed_result_is_final(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    dev = await device()
    task_id = (await dispatch(http))["task_id"]
    await dev.next("new_task")
    await dev.client.emit(
        "task_result", {"task_id": task_id, "result": {"success": False, "message": "坏了"}}
    )
    await dev.next("task_result_ack")
    task = await task_status(http, task_id)
    assert task["status"] == "failed" and task["result"]["message"] == "坏了"


async def test_heartbeat_ack(device: DeviceFactory) -> None:
    dev = await device()
    await dev.client.emit("heartbeat", {"device_id": "android_001", "timestamp": "2025-09-17T14:30:00"})
    assert (await dev.next("heartbeat_ack"))["server_time"]


async def test_least_busy_device_and_named_device(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    a = await device("a")
    b = await device("b")
    first = await dispatch(http)
    second = await dispatch(http)
    assert {first["device_id"], second["device_id"]} == {"a", "b"}
    named = await dispatch(http, device_id="b")
    assert named["device_id"] == "b"
    await a.next("new_task")
    assert {(await b.next("new_task"))["task_id"], (await b.next("new_task"))["task_id"]} >= {
        named["task_id"]
    }


async def test_dispatch_errors(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    r = await http.post("/api/dispatch-task", json={"data": {}})
    assert r.status_code == 400
    assert r.json() == {
        "success": False,
        "message": "缺少必要参数: task_type",
        "error_code": "MISSING_PARAMETER",
    }
    # Refused dispatches are HTTP 200 with success false, as the original answers them.
    r = await http.post("/api/dispatch-task", json={"task_type": "DELIST", "data": {"product_ids": ["1"]}})
    assert r.status_code == 200
    assert r.json() == {"success": False, "message": "没有可用设备", "error_code": "NO_AVAILABLE_DEVICE"}
    r = await http.post("/api/dispatch-task", json={"task_type": "DELIST", "data": {}, "device_id": "nope"})
    assert r.status_code in (400, 404)
    r = await http.post(
        "/api/dispatch-task",
        json={"task_type": "DELIST", "data": {"product_ids": ["1"]}, "device_id": "nope"},
    )
    assert r.status_code == 200
    assert r.json() == {"success": False, "message": "指定设备不存在: nope", "error_code": "DEVICE_NOT_FOUND"}
    dev = await device()
    r = await http.post("/api/dispatch-task", json={"task_type": "REBOOT", "data": {}})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_TASK_TYPE"
    r = await http.post(
        "/api/dispatch-task", json={"task_type": "COLLECT", "data": {"target_url": "ftp://x"}}
    )
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_TASK_DATA"
    r = await http.post("/api/dispatch-task", json={"task_type": "UPLOAD", "data": {"product_data": {}}})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_TASK_DATA"
    for _ in range(3):
        await dispatch(http, device_id="android_001")
    r = await http.post(
        "/api/dispatch-task",
        json={"task_type": "DELIST", "data": {"product_ids": ["1"]}, "device_id": "android_001"},
    )
    assert r.status_code == 200
    assert r.json() == {
        "success": False,
        "message": "指定设备任务已满: android_001",
        "error_code": "DEVICE_BUSY",
    }
    [seen] = (await http.get("/api/devices")).json()["devices"]
    assert seen["status"] == "busy" and seen["task_count"] == 3
    await dev.close()
    await eventually(lambda: _device_status(http, "offline"))
    r = await http.post(
        "/api/dispatch-task",
        json={"task_type": "DELIST", "data": {"product_ids": ["1"]}, "device_id": "android_001"},
    )
    assert r.status_code == 200
    assert r.json() == {
        "success": False,
        "message": "指定设备不在线: android_001",
        "error_code": "DEVICE_OFFLINE",
    }
    r = await http.get("/api/task/unknown/status")
    assert r.status_code == 404
    assert r.json() == {"success": False, "message": "任务不存在", "error_code": "TASK_NOT_FOUND"}


async def test_full_devices_queue_then_dispatch_when_free(
    device: DeviceFactory, http: httpx.AsyncClient
) -> None:
    dev = await device()
    ids = [(await dispatch(http))["task_id"] for _ in range(3)]
    queued = await dispatch(http, task_type="COLLECT", data={"target_url": "https://example.com/shop"})
    assert queued["device_id"] is None and queued["status"] == "pending"
    assert (await task_status(http, queued["task_id"]))["status"] == "pending"
    for _ in ids:
        await dev.next("new_task")
    await dev.result(ids[0])
    pushed = await dev.next("new_task")
    assert pushed["task_id"] == queued["task_id"]
    assert pushed["timeout"] == 600
    assert pushed["data"]["max_items"] == 50
    assert (await task_status(http, queued["task_id"]))["status"] == "dispatched"


async def _status_is(http: httpx.AsyncClient, task_id: str, status: str) -> bool:
    return bool((await task_status(http, task_id))["status"] == status)


async def _device_status(http: httpx.AsyncClient, status: str) -> bool:
    devices = (await http.get("/api/devices")).json()["devices"]
    return bool(devices and devices[0]["status"] == status)
