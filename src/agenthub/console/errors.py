"""Console errors, and how they look on the wire: `{"error": CODE, "message": text}`.

ConsoleError
 ├── NotLoggedIn       no session, or it expired        401
 ├── BadCredentials    wrong username or password       401
 └── NotFound          no such node                     404
"""

from __future__ import annotations

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
from agenthub.server.errors import ErrorEntry, ErrorFormat, Validation, WireError


class ConsoleError(Exception):
    """Base of the console's own errors."""


class NotLoggedIn(ConsoleError):
    pass


class BadCredentials(ConsoleError):
    pass


class NotFound(ConsoleError):
    pass


TABLE: dict[type[BaseException], ErrorEntry] = {
    NotLoggedIn: WireError(401, "NOT_LOGGED_IN", "log in first (or again: sessions expire)"),
    BadCredentials: WireError(401, "BAD_CREDENTIALS", "wrong username or password"),
    NotFound: lambda exc: WireError(404, "NOT_FOUND", str(exc)),
    JobNotFound: lambda exc: WireError(404, "NOT_FOUND", str(exc)),
    LeaseMismatch: lambda exc: WireError(409, "CONFLICT", str(exc)),
    InvalidTransition: lambda exc: WireError(409, "INVALID_TRANSITION", str(exc)),
    Conflict: lambda exc: WireError(409, "CONFLICT", str(exc)),
    InvalidValue: lambda exc: WireError(400, "INVALID", str(exc)),
    StorageUnavailable: WireError(503, "UNAVAILABLE", "the database cannot be reached"),
}


def render(error: WireError) -> Response:
    body = {"error": error.code, "message": error.message}
    return JSONResponse(body, status_code=error.status, headers=dict(error.headers or {}) or None)


def http(status: int, detail: str) -> WireError:
    return WireError(status, "NOT_FOUND" if status == 404 else "HTTP_ERROR", detail)


def validation(problem: Validation) -> WireError:
    return WireError(400, "INVALID", problem.text())


ERRORS = ErrorFormat(
    render=render,
    table=TABLE,
    http=http,
    validation=validation,
    too_large=WireError(413, "TOO_LARGE", "request body too large"),
    internal=WireError(500, "INTERNAL", "internal error"),
)
