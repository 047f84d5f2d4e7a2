"""Maicraft errors: the domain errors services raise, and how the edge puts every error on the wire - the
seed's envelope `{code: "ERROR", success: false, message, error_code, data: null, timestamp}`.

MaicraftError
 ├── NotFound             RESOURCE_NOT_FOUND (404)
 ├── InvalidParameter     INVALID_PARAMETER (400)
 ├── ValidationFailed     VALIDATION_ERROR (400)
 ├── OperationFailed      OPERATION_FAILED (400)
 ├── McpUnavailable       CONNECTION_ERROR (503): the MCP server is not running or not answering
 ├── GameUnavailable      GAME_STATE_ERROR (503): the MCP server answers but the bot is not in a world
 └── Unauthorized         VALIDATION_ERROR (401): the optional access token is missing or wrong
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.responses import Response

from agenthub.core.errors import (
    Conflict,
    InvalidTransition,
    InvalidValue,
    JobNotFound,
    LeaseMismatch,
    StorageUnavailable,
)
from agenthub.protocols.maicraft.envelope import error_body
from agenthub.server.errors import ErrorEntry, ErrorFormat, Validation, WireError, install_errors

INTERNAL_ERROR = "INTERNAL_ERROR"
VALIDATION_ERROR = "VALIDATION_ERROR"
RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
INVALID_PARAMETER = "INVALID_PARAMETER"
OPERATION_FAILED = "OPERATION_FAILED"
CONNECTION_ERROR = "CONNECTION_ERROR"
SUBSCRIPTION_ERROR = "SUBSCRIPTION_ERROR"
GAME_STATE_ERROR = "GAME_STATE_ERROR"
ENVIRONMENT_ERROR = "ENVIRONMENT_ERROR"

MCP_NOT_CONNECTED = "MCP_NOT_CONNECTED: MCP客户端未连接"


class MaicraftError(Exception):
    status = 400
    code = OPERATION_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(MaicraftError):
    status, code = 404, RESOURCE_NOT_FOUND


class InvalidParameter(MaicraftError):
    status, code = 400, INVALID_PARAMETER


class ValidationFailed(MaicraftError):
    status, code = 400, VALIDATION_ERROR


class OperationFailed(MaicraftError):
    status, code = 400, OPERATION_FAILED


class McpUnavailable(MaicraftError):
    status, code = 503, CONNECTION_ERROR


class GameUnavailable(MaicraftError):
    status, code = 503, GAME_STATE_ERROR


class Unauthorized(MaicraftError):
    status, code = 401, VALIDATION_ERROR


def _domain(exc: MaicraftError) -> WireError:
    return WireError(exc.status, exc.code, exc.message)


def _render(wire: WireError) -> Response:
    return JSONResponse(error_body(wire.message, wire.code), status_code=wire.status, headers=wire.headers)


def _http(status: int, detail: str) -> WireError:
    if status == 404:
        return WireError(404, RESOURCE_NOT_FOUND, "资源不存在")
    if status == 405:
        return WireError(405, INVALID_PARAMETER, "不支持的请求方法")
    return WireError(status, OPERATION_FAILED if status < 500 else INTERNAL_ERROR, detail)


def _validation(problem: Validation) -> WireError:
    message = "请求体不是有效的JSON" if problem.invalid_json else f"参数验证失败: {problem.text()}"
    return WireError(400, VALIDATION_ERROR, message)


TABLE: dict[type[BaseException], ErrorEntry] = {
    MaicraftError: _domain,
    JobNotFound: WireError(404, RESOURCE_NOT_FOUND, "资源不存在"),
    LeaseMismatch: WireError(409, OPERATION_FAILED, "操作失败: 租约不匹配"),
    InvalidTransition: WireError(409, OPERATION_FAILED, "操作失败: 状态不允许"),
    Conflict: WireError(409, OPERATION_FAILED, "操作失败: 数据冲突, 请重试"),
    StorageUnavailable: WireError(503, OPERATION_FAILED, "操作失败: 数据库暂不可用"),
    InvalidValue: lambda exc: WireError(400, INVALID_PARAMETER, f"参数无效: {exc}"),
}

FORMAT = ErrorFormat(
    render=_render,
    table=TABLE,
    http=_http,
    validation=_validation,
    too_large=WireError(413, VALIDATION_ERROR, "请求体过大"),
    internal=WireError(500, INTERNAL_ERROR, "服务器内部错误"),
)


def install(app: FastAPI) -> None:
    install_errors(app, FORMAT)
