"""Errors on the wire: HTTP `{"success": false, "message", "error_code"}`, Socket.IO `error` events with
`{"message", "error_code", "task_id"?}`; never a stack trace.

The service raises the domain errors below (plain exceptions, no status); `HTTP_ERRORS` maps them and every
core error to a `WireError` for HTTP, and `SOCKET_ERRORS` is the same table as a device sees it.

DevicesError
 ├── TaskNotFound         no task with that id
 ├── TaskFinished         cancelling a task that already ended
 ├── DeviceNotFound       a named device never registered        ┐ refused dispatches: HTTP 200 with
 ├── DeviceOffline        a named device is not online           │ success false, as the original
 ├── DeviceBusy           a named device has no room             │ answers (its HTTP client reads the
 ├── NoDeviceAvailable    no device is online at all             ┘ message only on a 200)
 ├── BadRequest           the request itself is malformed (message and code given where it is raised)
 └── WrongDeviceKey       a device key is set and the caller did not give it
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from agenthub.core.errors import (
    Conflict,
    InvalidTransition,
    InvalidValue,
    JobNotFound,
    LeaseMismatch,
    StorageUnavailable,
)
from agenthub.protocols.devices.tasks import TaskDataError
from agenthub.server.errors import ErrorEntry, ErrorFormat, Validation, WireError


class DevicesError(Exception):
    """Base of the devices protocol's domain errors."""


class TaskNotFound(DevicesError):
    pass


class TaskFinished(DevicesError):
    pass


class DeviceRefused(DevicesError):
    """A dispatch to a named device that cannot take it; the device id goes into the message."""

    def __init__(self, device_id: str) -> None:
        super().__init__(device_id)
        self.device_id = device_id


class DeviceNotFound(DeviceRefused):
    pass


class DeviceOffline(DeviceRefused):
    pass


class DeviceBusy(DeviceRefused):
    pass


class NoDeviceAvailable(DevicesError):
    pass


class BadRequest(DevicesError):
    def __init__(self, message: str, error_code: str = "INVALID_PARAMS") -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code


class WrongDeviceKey(DevicesError):
    pass


TASK_NOT_FOUND = WireError(404, "TASK_NOT_FOUND", "任务不存在")
# A progress or result for a task the device does not hold (any more): refused, nothing changes.
TASK_NOT_HELD = WireError(409, "TASK_NOT_HELD", "设备未持有该任务，已拒绝")
SERVICE_UNAVAILABLE = WireError(503, "SERVICE_UNAVAILABLE", "服务暂不可用")
INTERNAL_ERROR = WireError(500, "INTERNAL_ERROR", "服务器内部错误")


def _bad_request(exc: BadRequest) -> WireError:
    return WireError(400, exc.error_code, exc.message)


def _bad_task_data(exc: TaskDataError) -> WireError:
    return WireError(400, exc.error_code, exc.message)


def _refused(code: str, message: str) -> ErrorEntry:
    # The original answers a refused dispatch with HTTP 200 and `success: false`; its HTTP client reads the
    # message only on a 200 (and reports "HTTP请求失败: 404" otherwise).
    def entry(exc: DeviceRefused) -> WireError:
        return WireError(200, code, f"{message}: {exc.device_id}")

    return entry


TABLE: dict[type[BaseException], ErrorEntry] = {
    # core errors
    JobNotFound: TASK_NOT_FOUND,
    LeaseMismatch: TASK_NOT_HELD,
    InvalidTransition: WireError(409, "INVALID_TASK_STATE", "任务状态不允许该操作"),
    Conflict: WireError(409, "CONFLICT", "数据冲突，请重试"),
    StorageUnavailable: SERVICE_UNAVAILABLE,
    InvalidValue: lambda exc: WireError(400, "INVALID_PARAMS", f"参数错误: {exc}"),
    # the protocol's own
    TaskNotFound: TASK_NOT_FOUND,
    TaskFinished: WireError(409, "TASK_FINISHED", "任务已结束，无法取消"),
    DeviceNotFound: _refused("DEVICE_NOT_FOUND", "指定设备不存在"),
    DeviceOffline: _refused("DEVICE_OFFLINE", "指定设备不在线"),
    DeviceBusy: _refused("DEVICE_BUSY", "指定设备任务已满"),
    NoDeviceAvailable: WireError(200, "NO_AVAILABLE_DEVICE", "没有可用设备"),
    BadRequest: _bad_request,
    WrongDeviceKey: WireError(401, "UNAUTHORIZED", "设备密钥无效"),
    # The caller went away while sending its body: nobody reads the answer, but it is no server error.
    ClientDisconnect: WireError(400, "CLIENT_DISCONNECTED", "客户端已断开连接"),
    TaskDataError: _bad_task_data,
}

_KNOWN_HTTP = {404: ("资源不存在", "NOT_FOUND"), 405: ("方法不允许", "METHOD_NOT_ALLOWED")}


def render(wire: WireError) -> Response:
    body = {"success": False, "message": wire.message, "error_code": wire.code}
    return JSONResponse(body, status_code=wire.status, headers=dict(wire.headers or {}))


def _http(status: int, detail: str) -> WireError:
    message, code = _KNOWN_HTTP.get(status, (detail, "HTTP_ERROR"))
    return WireError(status, code, message)


def _validation(problem: Validation) -> WireError:
    if problem.invalid_json:
        return WireError(400, "INVALID_PARAMS", "请求体不是合法的 JSON")
    return WireError(400, "INVALID_PARAMS", "参数错误: " + problem.text())


HTTP_ERRORS = ErrorFormat(
    render=render,
    table=TABLE,
    http=_http,
    validation=_validation,
    too_large=WireError(413, "PAYLOAD_TOO_LARGE", "请求体过大"),
    internal=INTERNAL_ERROR,
)

# A device that reports on a task it no longer may (cancelled, finished, given away) is told it does not hold
# it, whichever of the two engine errors said so.
SOCKET_ERRORS = replace(HTTP_ERRORS, table={**TABLE, InvalidTransition: TASK_NOT_HELD})


def socket_error(wire: WireError, task_id: str | None = None) -> dict[str, Any]:
    """The payload of a Socket.IO `error` event."""
    body: dict[str, Any] = {"message": wire.message, "error_code": wire.code}
    if task_id is not None:
        body["task_id"] = task_id
    return body
