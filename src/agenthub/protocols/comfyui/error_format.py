"""ComfyUI errors on the wire: always `{"detail": "AGENT_..."}` with a fitting status code, never a trace.

A readable `message` goes beside the code where a client needs one to see what was wrong: a request that did
not validate, a request the schema let through but that means nothing, and HTTP-level errors (an unknown
route, a body that could not be parsed at all). The seed's codes stand alone, as the seed shows them.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from agenthub.core.errors import (
    Conflict,
    InvalidTransition,
    InvalidValue,
    JobNotFound,
    LeaseMismatch,
    StorageUnavailable,
)
from agenthub.protocols.comfyui import errors
from agenthub.server.errors import ErrorEntry, ErrorFormat, Validation, WireError

TASK_NOT_FOUND = WireError(404, "AGENT_TASK_NOT_FOUND", "")
TASK_FORBIDDEN = WireError(403, "AGENT_TASK_FORBIDDEN", "")
TASK_FINISHED = WireError(409, "AGENT_TASK_FINISHED", "")  # ours: the seed does not name it

TABLE: dict[type[BaseException], ErrorEntry] = {
    # The seed's codes.
    errors.TokenRequired: WireError(401, "AGENT_TOKEN_REQUIRED", ""),
    errors.TokenInvalid: WireError(401, "AGENT_TOKEN_INVALID", ""),
    errors.TokenExpired: WireError(401, "AGENT_TOKEN_EXPIRED", ""),
    errors.TokenPayloadInvalid: WireError(401, "AGENT_TOKEN_PAYLOAD_INVALID", ""),
    errors.TokenPayloadMismatch: WireError(403, "AGENT_TOKEN_PAYLOAD_MISMATCH", ""),
    errors.TokenScopeInvalid: WireError(403, "AGENT_TOKEN_SCOPE_INVALID", ""),
    errors.TaskNotFound: TASK_NOT_FOUND,
    errors.TaskForbidden: TASK_FORBIDDEN,
    errors.TaskExpired: WireError(409, "AGENT_TASK_EXPIRED", ""),
    errors.ManifestNotFound: WireError(404, "AGENT_MANIFEST_NOT_FOUND", ""),
    errors.ManifestForbidden: WireError(403, "AGENT_MANIFEST_FORBIDDEN", ""),
    errors.AgentNotFound: WireError(404, "AGENT_NOT_FOUND", ""),
    errors.AgentNotAllowed: WireError(403, "AGENT_NOT_ALLOWED", ""),
    # Ours: cases the seed does not name.
    errors.TaskFinished: TASK_FINISHED,
    errors.AdminRequired: WireError(401, "AGENT_ADMIN_REQUIRED", ""),
    errors.AgentExists: WireError(409, "AGENT_ALREADY_EXISTS", ""),
    errors.ManifestVersionExists: WireError(409, "AGENT_MANIFEST_VERSION_EXISTS", ""),
    errors.DocsNotFound: WireError(404, "AGENT_DOCS_NOT_FOUND", ""),
    errors.RequestInvalid: lambda exc: WireError(400, "AGENT_REQUEST_INVALID", exc.message),
    # The engine's errors, when one reaches the edge without a service turning it into one of the above.
    # Jobs here are tasks, so they speak of tasks; a lease the agent does not hold is a task not (or no
    # longer) pushed to it, which the seed calls AGENT_TASK_FORBIDDEN.
    JobNotFound: TASK_NOT_FOUND,
    LeaseMismatch: TASK_FORBIDDEN,
    InvalidTransition: TASK_FINISHED,
    Conflict: WireError(409, "AGENT_CONFLICT", ""),
    StorageUnavailable: WireError(503, "AGENT_UNAVAILABLE", ""),
    InvalidValue: lambda exc: WireError(400, "AGENT_REQUEST_INVALID", str(exc)),
}

HTTP_CODES = {404: "AGENT_ROUTE_NOT_FOUND", 405: "AGENT_METHOD_NOT_ALLOWED"}


def render(error: WireError) -> Response:
    body = {"detail": error.code}
    if error.message:
        body["message"] = error.message
    return JSONResponse(body, status_code=error.status, headers=dict(error.headers or {}) or None)


def http(status: int, detail: str) -> WireError:
    return WireError(status, HTTP_CODES.get(status, "AGENT_HTTP_ERROR"), detail)


def validation(problem: Validation) -> WireError:
    message = "body is not valid JSON" if problem.invalid_json else problem.text()
    return WireError(400, "AGENT_REQUEST_INVALID", message)


ERRORS = ErrorFormat(
    render=render,
    table=TABLE,
    http=http,
    validation=validation,
    too_large=WireError(413, "AGENT_BODY_TOO_LARGE", ""),
    internal=WireError(500, "AGENT_INTERNAL_ERROR", ""),
)


def unreadable_body(exc: BaseException) -> WireError | None:
    """FastAPI answers every body it cannot parse with one 400 "There was an error parsing the body"; say
    what was wrong instead, from the error behind it."""
    cause = exc.__cause__
    if isinstance(cause, RecursionError):
        return WireError(400, "AGENT_REQUEST_INVALID", "body: JSON nested too deeply to read")
    if isinstance(cause, UnicodeDecodeError):
        return WireError(400, "AGENT_REQUEST_INVALID", "body: not valid UTF-8, so not valid JSON")
    if isinstance(cause, ValueError):
        return WireError(400, "AGENT_REQUEST_INVALID", f"body: not valid JSON ({cause})")
    return None


def install_body_errors(app: FastAPI) -> None:
    """Puts `unreadable_body` in front of the HTTP error handler `install_errors` set up."""
    fallback = app.exception_handlers[StarletteHTTPException]

    async def on_http_error(request: Request, exc: Exception) -> Response:
        unreadable = unreadable_body(exc)
        if unreadable is not None:
            return render(unreadable)
        answer = fallback(request, exc)
        return answer if isinstance(answer, Response) else await answer

    app.add_exception_handler(StarletteHTTPException, on_http_error)
