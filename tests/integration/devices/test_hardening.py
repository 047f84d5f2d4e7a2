"""Regressions from a hostile caller's repros: bad input never gets a 500, refused dispatches are answered as
the original answers them, and a device's last report crossing its result is not an error."""

from __future__ import annotations

import httpx

from tests.integration.devices.conftest import DeviceFactory, dispatch


def _error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"success", "message", "error_code"}, body
    assert body["success"] is False and body["error_code"] == code and body["message"]


async def test_offset_beyond_64_bits_is_a_bad_request(http: httpx.AsyncClient) -> None:
    for offset in ("9223372036854775808", "99999999999999999999", "-1"):
        _error(await http.get("/api/tasks", params={"offset": offset}), 400, "INVALID_PARAMS")
    r = await http.get("/api/tasks")  # the same keep-alive connection still answers
    assert r.status_code == 200 and r.json()["total"] == 0


async def test_nul_in_a_task_id_is_not_found(http: httpx.AsyncClient) -> None:
    # The same answer on SQLite and PostgreSQL (which cannot even compare text with a NUL in it).
    for path in ("/api/task/%00/status", "/api/task/a%00b/status", "/api/task/%00/cancel"):
        method = "POST" if path.endswith("cancel") else "GET"
        r = await http.request(method, path)
        assert r.json() == {"success": False, "message": "任务不存在", "error_code": "TASK_NOT_FOUND"}
        assert r.status_code == 404


async def test_absurdly_nested_json_is_a_bad_request(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    _error(await http.post("/api/dispatch-task", content=deep), 400, "INVALID_JSON")
    body = b'{"task_type": "DELIST", "data": {"product_ids": ["1"], "x": ' + deep + b"}}"
    _error(await http.post("/api/dispatch-task", content=body), 400, "INVALID_JSON")
    await device()
    nested: object = 1
    for _ in range(100):  # parses, but nothing that deep is stored
        nested = [nested]
    r = await http.post(
        "/api/dispatch-task", json={"task_type": "DELIST", "data": {"product_ids": ["1"], "x": nested}}
    )
    _error(r, 400, "INVALID_TASK_DATA")
    r = await http.post(
        "/api/dispatch-task",
        content=b'{"task_type": "DELIST", "data": {"product_ids": ["1"], "ratio": NaN}}',
    )
    _error(r, 400, "INVALID_TASK_DATA")


async def test_non_finite_progress_and_result_are_refused(
    device: DeviceFactory, http: httpx.AsyncClient
) -> None:
    dev = await device()
    task_id = (await dispatch(http))["task_id"]
    await dev.next("new_task")
    for value in (float("nan"), float("inf"), float("-inf")):
        await dev.client.emit("task_progress", {"task_id": task_id, "progress": value})
        error = await dev.next("error")
        assert error["error_code"] == "INVALID_PAYLOAD" and error["task_id"] == task_id
    await dev.client.emit("task_progress", {"task_id": task_id, "progress": 2**70})  # clamped to 100
    await dev.client.emit("task_result", {"task_id": task_id, "result": {"success": True, "t": float("nan")}})
    error = await dev.next("error")
    assert error["error_code"] == "INVALID_PAYLOAD" and error["task_id"] == task_id
    await dev.result(task_id, execution_time=1.5)  # the device and the task are fine afterwards
    assert (await dev.next("task_result_ack"))["task_id"] == task_id
    assert dev.pending("error") == 0


async def test_refused_dispatches_read_like_the_originals(
    device: DeviceFactory, http: httpx.AsyncClient
) -> None:
    """The original's HTTP client reads the message only on a 200: every refusal is a 200 with success false
    and the device id in the message."""
    body = {"task_type": "DELIST", "data": {"product_ids": ["1"]}}
    r = await http.post("/api/dispatch-task", json=body)
    assert (r.status_code, r.json()["success"], r.json()["message"]) == (200, False, "没有可用设备")
    r = await http.post("/api/dispatch-task", json={**body, "device_id": "android_404"})
    assert (r.status_code, r.json()["message"]) == (200, "指定设备不存在: android_404")
    dev = await device("android_001")
    for _ in range(3):
        await dispatch(http, device_id="android_001")
    r = await http.post("/api/dispatch-task", json={**body, "device_id": "android_001"})
    assert (r.status_code, r.json()["message"]) == (200, "指定设备任务已满: android_001")
    await dev.close()
    # Missing task_type stays a 400, as in the original.
    _error(await http.post("/api/dispatch-task", json={"data": {}}), 400, "MISSING_PARAMETER")


async def test_reports_after_the_devices_own_result_are_not_errors(
    device: DeviceFactory, http: httpx.AsyncClient
) -> None:
    dev = await device()
    for _ in range(10):
        task_id = (await dispatch(http))["task_id"]
        await dev.next("new_task")
        # As a real device does: its last progress report and its result, back to back.
        await dev.progress(task_id, 90, "almost")
        await dev.progress(task_id, 100, "done")
        await dev.result(task_id, processed_count=1)
        await dev.progress(task_id, 100, "really done")  # even one sent after the result
        assert (await dev.next("task_result_ack"))["task_id"] == task_id
    await dev.client.emit("heartbeat", {"device_id": "android_001"})
    await dev.next("heartbeat_ack")  # handled after everything above: a device's events keep their order
    assert dev.pending("error") == 0
    # Another device's report on that task is still refused.
    other = await device("android_002")
    await other.progress(task_id, 50)
    assert (await other.next("error"))["error_code"] == "TASK_NOT_HELD"


async def test_unstorable_device_info_is_refused(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    dev = await device(register=False)
    nested: object = {}
    for _ in range(20):
        nested = {"x": nested}
    for info in ({"type": "android", "battery": float("nan")}, nested):
        await dev.client.emit("device_register", {"device_id": "android_001", "device_info": info})
        assert (await dev.next("register_error"))["error_code"] == "INVALID_DEVICE_INFO"
    await dev.client.emit("device_register", {"device_id": "android_001", "device_name": "小米\x00手机"})
    assert (await dev.next("register_success"))["device_id"] == "android_001"
    [seen] = (await http.get("/api/devices")).json()["devices"]
    assert seen["device_name"] == "小米手机"  # a display name: stored without the NUL, on every database
