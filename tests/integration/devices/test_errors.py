"""Every core error reaches the devices wire in the devices format with a 4xx or 503, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agenthub.core.errors import (
    CORE_ERRORS,
    Conflict,
    EngineError,
    InvalidTransition,
    InvalidValue,
    JobNotFound,
    LeaseMismatch,
    StorageUnavailable,
)
from agenthub.protocols.devices.errors import HTTP_ERRORS, SOCKET_ERRORS
from agenthub.server.runtime import Runtime
from tests.integration.devices.conftest import DeviceFactory, dispatch

# error -> (HTTP status, HTTP error_code, Socket.IO error_code)
EXPECTED: dict[type[EngineError], tuple[EngineError, int, str, str]] = {
    JobNotFound: (JobNotFound(1), 404, "TASK_NOT_FOUND", "TASK_NOT_FOUND"),
    LeaseMismatch: (LeaseMismatch(1, "android_001"), 409, "TASK_NOT_HELD", "TASK_NOT_HELD"),
    # To a device, a task in a state that refuses its report is a task it does not hold.
    InvalidTransition: (
        InvalidTransition(1, "success", "complete"),
        409,
        "INVALID_TASK_STATE",
        "TASK_NOT_HELD",
    ),
    Conflict: (Conflict("duplicate"), 409, "CONFLICT", "CONFLICT"),
    StorageUnavailable: (StorageUnavailable("down"), 503, "SERVICE_UNAVAILABLE", "SERVICE_UNAVAILABLE"),
    InvalidValue: (InvalidValue("integer out of range"), 400, "INVALID_PARAMS", "INVALID_PARAMS"),
}


def test_every_core_error_is_in_the_table() -> None:
    assert set(EXPECTED) == set(CORE_ERRORS)
    assert HTTP_ERRORS.missing_core_errors() == [] and SOCKET_ERRORS.missing_core_errors() == []


def _raising(error: EngineError) -> Any:
    async def raise_it(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    return raise_it


@pytest.mark.parametrize("error_type", CORE_ERRORS, ids=lambda t: t.__name__)
async def test_core_error_on_http(
    error_type: type[EngineError],
    runtime: Runtime,
    http: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error, status, code, _socket_code = EXPECTED[error_type]
    monkeypatch.setattr(runtime.engine, "get_by_external_id", _raising(error))
    for r in (
        await http.get("/api/task/some-task/status"),
        await http.post("/api/task/some-task/cancel"),
    ):
        assert r.status_code == status, r.text
        body = r.json()
        assert set(body) == {"success", "message", "error_code"}
        assert body["success"] is False and body["error_code"] == code and body["message"]


@pytest.mark.parametrize("error_type", CORE_ERRORS, ids=lambda t: t.__name__)
async def test_core_error_on_socketio(
    error_type: type[EngineError],
    runtime: Runtime,
    device: DeviceFactory,
    http: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error, _status, _code, socket_code = EXPECTED[error_type]
    dev = await device()
    task_id = (await dispatch(http))["task_id"]
    await dev.next("new_task")
    monkeypatch.setattr(runtime.engine, "complete", _raising(error))
    monkeypatch.setattr(runtime.engine, "progress", _raising(error))
    await dev.result(task_id)
    await dev.progress(task_id, 10)
    for _ in range(2):
        event = await dev.next("error")
        assert event == {"message": event["message"], "error_code": socket_code, "task_id": task_id}
        assert event["message"]
    assert dev.pending("task_result_ack") == 0
    monkeypatch.undo()
    await dev.result(task_id)  # the device and the server are fine afterwards
    assert (await dev.next("task_result_ack"))["task_id"] == task_id


async def test_the_same_error_on_the_real_path(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    """Without injection: progress on a cancelled task (the engine refuses the lease) is refused."""
    dev = await device()
    task_id = (await dispatch(http))["task_id"]
    await dev.next("new_task")
    assert (await http.post(f"/api/task/{task_id}/cancel")).status_code == 200
    await dev.next("cancel_task")
    await dev.progress(task_id, 50)
    assert await dev.next("error") == {
        "message": "设备未持有该任务，已拒绝",
        "error_code": "TASK_NOT_HELD",
        "task_id": task_id,
    }
    done_id = (await dispatch(http))["task_id"]
    await dev.next("new_task")
    await dev.result(done_id)
    await dev.next("task_result_ack")
    r = await http.post(f"/api/task/{done_id}/cancel")
    assert r.status_code == 409
    assert r.json() == {"success": False, "message": "任务已结束，无法取消", "error_code": "TASK_FINISHED"}
