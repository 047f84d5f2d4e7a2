"""Oas errors on the wire: always `{"detail": "..."}` with the seed's status codes, never a stack trace.

Services raise the domain errors below (or the engine's core errors); `ERRORS` maps each to its status and
message and `install_errors` (agenthub.server.errors) puts them on the wire. `OasError(status, detail)` is the
edge's own HTTP error: only route handlers and their dependencies raise it.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from agenthub.core.errors import (
    Conflict,
    InvalidTransition,
    InvalidValue,
    JobNotFound,
    LeaseMismatch,
    StorageUnavailable,
)
from agenthub.protocols.oas.batch_store import NotAllOwned
from agenthub.protocols.oas.codes_store import CodeRefused
from agenthub.protocols.oas.notify import NotifyConfigError
from agenthub.protocols.oas.task_config import TaskConfigError
from agenthub.protocols.oas.users_store import VersionMismatch
from agenthub.protocols.oas.wire import DateOutOfRange
from agenthub.server.errors import ErrorEntry, ErrorFormat, Validation, WireError, install_errors

JOB_NOT_FOUND = "任务不存在"
LEASE_MISMATCH = "租约不匹配"
BAD_STATE = "任务状态不允许该操作"
USER_NOT_FOUND = "用户不存在"
NOTHING_TO_UPDATE = "没有可更新的字段"
SCAN_NOT_FOUND = "扫码任务不存在"
SCAN_ENDED = "扫码任务已结束"
SCAN_ACTIVE = "已有进行中的扫码任务"
USER_EXPIRED = "用户账号已过期"


class OasError(Exception):
    """An HTTP answer decided at the edge (a route or a dependency): status and detail as given."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


# -- domain errors (raised by services; plain exceptions, mapped below) -----------------------------------


class UserNotFound(Exception):
    """The user does not exist, or is not the caller's."""


class UserExpired(Exception):
    """The user's account is disabled or past its expiry."""


class InvalidSettings(ValueError):
    """A settings write the API refuses; the message says why (a 400's detail)."""


class ScanNotFound(Exception):
    """The scan job does not exist, or is not the user's."""


class ScanEnded(Exception):
    """The scan already ended; the user can no longer act on it."""


class ScanActive(Exception):
    """The user already has a scan under way."""


class TooManyLogins(Exception):
    """Too many refused logins from one client address; it may try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class ScanRefused(ValueError):
    """A scan call the state of the scan does not allow (e.g. a phase going back); the message says why."""


def _as_400(exc: BaseException) -> WireError:
    return WireError(400, "bad_request", str(exc))


def _edge(exc: OasError) -> WireError:
    return WireError(exc.status_code, "oas", exc.detail)


def _too_many_logins(exc: TooManyLogins) -> WireError:
    return WireError(
        429, "rate_limited", "登录尝试过于频繁，请稍后再试", headers={"Retry-After": str(exc.retry_after)}
    )


def _version_mismatch(exc: VersionMismatch) -> WireError:
    return WireError(409, "conflict", f"任务配置已被修改，当前版本 {exc.current}")


ERRORS: dict[type[BaseException], ErrorEntry] = {
    JobNotFound: WireError(404, "not_found", JOB_NOT_FOUND),
    LeaseMismatch: WireError(403, "lease_mismatch", LEASE_MISMATCH),
    InvalidTransition: WireError(409, "invalid_transition", BAD_STATE),
    Conflict: WireError(409, "conflict", "数据冲突"),
    StorageUnavailable: WireError(503, "unavailable", "服务暂不可用"),
    InvalidValue: lambda exc: WireError(400, "bad_request", f"参数错误: {exc}"),
    OasError: _edge,
    UserNotFound: WireError(404, "not_found", USER_NOT_FOUND),
    UserExpired: WireError(403, "forbidden", USER_EXPIRED),
    InvalidSettings: _as_400,
    TaskConfigError: _as_400,
    NotifyConfigError: _as_400,
    VersionMismatch: _version_mismatch,
    ScanNotFound: WireError(404, "not_found", SCAN_NOT_FOUND),
    ScanEnded: WireError(400, "bad_request", SCAN_ENDED),
    ScanActive: WireError(409, "conflict", SCAN_ACTIVE),
    ScanRefused: _as_400,
    TooManyLogins: _too_many_logins,
    DateOutOfRange: lambda exc: WireError(400, "bad_request", f"参数错误: {exc}"),
    # Date arithmetic on the caller's values past year 9999 (a safety net; known places raise the above).
    OverflowError: WireError(400, "bad_request", "参数错误: 数值超出范围"),
    CodeRefused: _as_400,
    NotAllOwned: lambda exc: WireError(404, "not_found", str(exc)),
}

HTTP_MESSAGES = {404: "资源不存在", 405: "方法不允许"}


def render(wire: WireError) -> Response:
    headers = dict(wire.headers) if wire.headers else None
    return JSONResponse({"detail": wire.message}, status_code=wire.status, headers=headers)


def _http(status: int, detail: str) -> WireError:
    return WireError(status, "http", HTTP_MESSAGES.get(status, detail))


def _validation(problem: Validation) -> WireError:
    if problem.invalid_json:
        return WireError(400, "bad_request", "请求体不是合法的 JSON")
    if problem.missing_body:
        return WireError(400, "bad_request", "缺少请求体")
    return WireError(400, "bad_request", "参数错误: " + problem.text())


FORMAT = ErrorFormat(
    render=render,
    table=ERRORS,
    http=_http,
    validation=_validation,
    too_large=WireError(413, "too_large", "请求体过大"),
    internal=WireError(500, "internal", "服务器内部错误"),
)


def install(app: FastAPI) -> None:
    install_errors(app, FORMAT)
