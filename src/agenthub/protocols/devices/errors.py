"""Errors on the wire: HTTP `{"success": false, "message", "error_code"}`, Socket.IO `error` events with
`{"message", "error_code"}`; never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from agenthub.core.errors import EngineError, InvalidTransition, JobNotFound, StorageUnavailable
from agenthub.server.body_limit import BodyTooLarge

log = logging.getLogger(__name__)

TASK_NOT_FOUND = "任务不存在"


class DevicesError(Exception):
    def __init__(self, status_code: int, message: str, error_code: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.error_code = error_code


def failure(status_code: int, message: str, error_code: str) -> JSONResponse:
    body = {"success": False, "message": message, "error_code": error_code}
    return JSONResponse(body, status_code=status_code)


def too_large() -> Response:
    return failure(413, "请求体过大", "PAYLOAD_TOO_LARGE")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return "请求体不是合法的 JSON"
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "参数错误: " + "; ".join(parts)


def _engine_error(exc: EngineError) -> JSONResponse:
    if isinstance(exc, JobNotFound):
        return failure(404, TASK_NOT_FOUND, "TASK_NOT_FOUND")
    if isinstance(exc, InvalidTransition):
        return failure(409, "任务状态不允许该操作", "INVALID_TASK_STATE")
    if isinstance(exc, StorageUnavailable):
        return failure(503, "服务暂不可用", "SERVICE_UNAVAILABLE")
    return failure(500, "服务器内部错误", "INTERNAL_ERROR")


def install(app: FastAPI) -> None:
    async def on_devices_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DevicesError)
        return failure(exc.status_code, exc.message, exc.error_code)

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        known = {404: ("资源不存在", "NOT_FOUND"), 405: ("方法不允许", "METHOD_NOT_ALLOWED")}
        message, code = known.get(exc.status_code, (str(exc.detail), "HTTP_ERROR"))
        return failure(exc.status_code, message, code)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return failure(400, _validation_message(exc), "INVALID_PARAMS")

    async def on_engine_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, EngineError)
        return _engine_error(exc)

    async def on_too_large(_request: Request, _exc: Exception) -> Response:
        return too_large()

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return failure(500, "服务器内部错误", "INTERNAL_ERROR")

    app.add_exception_handler(DevicesError, on_devices_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(EngineError, on_engine_error)
    app.add_exception_handler(BodyTooLarge, on_too_large)
    app.add_exception_handler(Exception, on_unexpected)
