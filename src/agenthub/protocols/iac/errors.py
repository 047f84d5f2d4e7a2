"""IaC errors on the wire: always `{"error": "..."}` (sometimes with a field the agent resumes from, such as
`next_offset` or `current_status`), with a fitting 4xx/503 status, never a trace.

IacError                 a domain error: status + message (+ extra fields)
 ├── BadRequest          400 (bad ids, bodies, statuses)
 ├── Unauthorized        401 (missing or wrong application credentials, admin key)
 ├── Forbidden           403 (agent outside the application, task not assigned to the agent)
 ├── NotFound            404
 └── Refused             409 (cancelled task, senseless transition, log gap or mismatch)
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
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
from agenthub.server.errors import ErrorFormat, Validation, WireError, install_errors


class IacError(Exception):
    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class BadRequest(IacError):
    status = 400


class Unauthorized(IacError):
    status = 401


class Forbidden(IacError):
    status = 403


class NotFound(IacError):
    status = 404


class Refused(IacError):
    status = 409


class LogGap(Refused):
    def __init__(self, committed: int) -> None:
        super().__init__(f"offset gap: the committed offset is {committed}", next_offset=committed)


class LogConflict(Refused):
    def __init__(self, committed: int) -> None:
        super().__init__("chunk does not match the log already stored at this offset", next_offset=committed)


def render(wire: WireError) -> Response:
    return JSONResponse({"error": wire.message}, status_code=wire.status, headers=wire.headers)


def _http(status: int, detail: str) -> WireError:
    messages = {404: "not found", 405: "method not allowed"}
    return WireError(status, "http", messages.get(status, detail))


def _validation(problems: Validation) -> WireError:
    if problems.invalid_json:
        return WireError(400, "invalid_body", "invalid request body: not valid JSON")
    return WireError(400, "invalid_body", f"invalid request body: {problems.text()}")


ERRORS = ErrorFormat(
    render=render,
    table={
        JobNotFound: WireError(404, "not_found", "task not found"),
        LeaseMismatch: WireError(403, "forbidden", "task is not assigned to this agent"),
        InvalidTransition: lambda exc: WireError(409, "conflict", f"task is {exc.status}"),
        Conflict: WireError(409, "conflict", "already exists"),
        StorageUnavailable: WireError(503, "unavailable", "database unavailable"),
        InvalidValue: lambda exc: WireError(400, "invalid_value", f"invalid value: {exc}"),
        IacError: lambda exc: WireError(exc.status, "iac", exc.message),
    },
    http=_http,
    validation=_validation,
    too_large=WireError(413, "too_large", "request body too large"),
    internal=WireError(500, "internal", "internal error"),
)


def as_response(exc: IacError) -> JSONResponse:
    return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)


def install(app: FastAPI) -> None:
    install_errors(app, ERRORS)

    async def on_iac_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, IacError)
        return as_response(exc)  # the table's answer plus the fields an agent resumes from

    app.add_exception_handler(IacError, on_iac_error)
