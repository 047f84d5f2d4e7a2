"""ComfyUI errors on the wire: always `{"detail": "AGENT_..."}` with a fitting status code, never a trace.

A validation error adds a readable `message` beside the code, so a client still sees what was wrong.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from agenthub.core.errors import Conflict, EngineError, InvalidTransition, JobNotFound, StorageUnavailable
from agenthub.server.body_limit import BodyTooLarge

log = logging.getLogger(__name__)

# The seed's codes, with the status each gets.
TOKEN_REQUIRED = (401, "AGENT_TOKEN_REQUIRED")
TOKEN_INVALID = (401, "AGENT_TOKEN_INVALID")
TOKEN_EXPIRED = (401, "AGENT_TOKEN_EXPIRED")
TOKEN_PAYLOAD_INVALID = (401, "AGENT_TOKEN_PAYLOAD_INVALID")
TOKEN_PAYLOAD_MISMATCH = (403, "AGENT_TOKEN_PAYLOAD_MISMATCH")
TOKEN_SCOPE_INVALID = (403, "AGENT_TOKEN_SCOPE_INVALID")
TASK_NOT_FOUND = (404, "AGENT_TASK_NOT_FOUND")
TASK_FORBIDDEN = (403, "AGENT_TASK_FORBIDDEN")
TASK_EXPIRED = (409, "AGENT_TASK_EXPIRED")
MANIFEST_NOT_FOUND = (404, "AGENT_MANIFEST_NOT_FOUND")
MANIFEST_FORBIDDEN = (403, "AGENT_MANIFEST_FORBIDDEN")
AGENT_NOT_FOUND = (404, "AGENT_NOT_FOUND")
AGENT_NOT_ALLOWED = (403, "AGENT_NOT_ALLOWED")
# Ours: cases the seed does not name.
TASK_FINISHED = (409, "AGENT_TASK_FINISHED")
ADMIN_REQUIRED = (401, "AGENT_ADMIN_REQUIRED")
AGENT_EXISTS = (409, "AGENT_ALREADY_EXISTS")
MANIFEST_EXISTS = (409, "AGENT_MANIFEST_VERSION_EXISTS")
REQUEST_INVALID = (400, "AGENT_REQUEST_INVALID")
BODY_TOO_LARGE = (413, "AGENT_BODY_TOO_LARGE")
DOCS_NOT_FOUND = (404, "AGENT_DOCS_NOT_FOUND")


class AgentError(Exception):
    def __init__(self, error: tuple[int, str], message: str | None = None) -> None:
        super().__init__(error[1])
        self.status_code, self.code = error
        self.message = message


def detail(error: tuple[int, str], message: str | None = None) -> JSONResponse:
    body = {"detail": error[1]}
    if message:
        body["message"] = message
    return JSONResponse(body, status_code=error[0])


def too_large() -> Response:
    return detail(BODY_TOO_LARGE)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return "body is not valid JSON"
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def _engine_error(exc: EngineError) -> JSONResponse:
    if isinstance(exc, JobNotFound):
        return detail(TASK_NOT_FOUND)
    if isinstance(exc, InvalidTransition):
        return detail(TASK_FINISHED)
    if isinstance(exc, Conflict):
        return detail((409, "AGENT_CONFLICT"))
    if isinstance(exc, StorageUnavailable):
        return detail((503, "AGENT_UNAVAILABLE"))
    return detail((500, "AGENT_INTERNAL_ERROR"))


def install(app: FastAPI) -> None:
    async def on_agent_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AgentError)
        return detail((exc.status_code, exc.code), exc.message)

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        codes = {404: "AGENT_ROUTE_NOT_FOUND", 405: "AGENT_METHOD_NOT_ALLOWED"}
        return detail((exc.status_code, codes.get(exc.status_code, "AGENT_HTTP_ERROR")))

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return detail(REQUEST_INVALID, _validation_message(exc))

    async def on_engine_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, EngineError)
        return _engine_error(exc)

    async def on_too_large(_request: Request, _exc: Exception) -> Response:
        return too_large()

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return detail((500, "AGENT_INTERNAL_ERROR"))

    app.add_exception_handler(AgentError, on_agent_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(EngineError, on_engine_error)
    app.add_exception_handler(BodyTooLarge, on_too_large)
    app.add_exception_handler(Exception, on_unexpected)
