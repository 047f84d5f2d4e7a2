"""Oas errors on the wire: always `{"detail": "..."}` with the seed's status codes, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from agenthub.core.errors import (
    Conflict,
    EngineError,
    InvalidTransition,
    JobNotFound,
    LeaseMismatch,
    StorageUnavailable,
)
from agenthub.server.body_limit import BodyTooLarge

log = logging.getLogger(__name__)

JOB_NOT_FOUND = "任务不存在"
LEASE_MISMATCH = "租约不匹配"
BAD_STATE = "任务状态不允许该操作"
USER_NOT_FOUND = "用户不存在"


class OasError(Exception):
    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


def detail(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status_code, headers=headers)


def too_large() -> Response:
    return detail(413, "请求体过大")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return "请求体不是合法的 JSON"
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        if error.get("type") == "missing" and not location:
            return "缺少请求体"
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "参数错误: " + "; ".join(parts)


def _engine_error(exc: EngineError) -> JSONResponse:
    if isinstance(exc, JobNotFound):
        return detail(404, JOB_NOT_FOUND)
    if isinstance(exc, LeaseMismatch):
        return detail(403, LEASE_MISMATCH)
    if isinstance(exc, InvalidTransition):
        return detail(409, BAD_STATE)
    if isinstance(exc, Conflict):
        return detail(409, "数据冲突")
    if isinstance(exc, StorageUnavailable):
        return detail(503, "服务暂不可用")
    return detail(500, "服务器内部错误")


def install(app: FastAPI) -> None:
    async def on_oas_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OasError)
        return detail(exc.status_code, exc.detail)

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        text = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        messages = {404: "资源不存在", 405: "方法不允许"}
        return detail(exc.status_code, messages.get(exc.status_code, text), dict(exc.headers or {}))

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return detail(400, _validation_message(exc))

    async def on_engine_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, EngineError)
        return _engine_error(exc)

    async def on_too_large(_request: Request, _exc: Exception) -> Response:
        return too_large()

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return detail(500, "服务器内部错误")

    app.add_exception_handler(OasError, on_oas_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(EngineError, on_engine_error)
    app.add_exception_handler(BodyTooLarge, on_too_large)
    app.add_exception_handler(Exception, on_unexpected)
