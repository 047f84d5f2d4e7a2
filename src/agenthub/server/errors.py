"""One installer for every protocol's errors: a protocol gives a table (exception type -> `WireError`) and a
render function for its wire format; the installer maps routing, validation, body-size, core and the
protocol's own domain errors through them, so no request ends in a bare 500 or a stack trace.

Every core error (`agenthub.core.errors.CORE_ERRORS`) must be in the table: `install_errors` refuses a table
that misses one, so a new core error cannot silently become a 500 in some protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from agenthub.core.errors import CORE_ERRORS

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """A request body passed its protocol's size limit while it was read."""


@dataclass(frozen=True, slots=True)
class WireError:
    """An error as a protocol puts it on the wire: HTTP status, the protocol's code, a readable message."""

    status: int
    code: str
    message: str
    headers: Mapping[str, str] | None = None


# An entry of a protocol's table: a fixed answer, or one computed from the exception.
ErrorEntry = WireError | Callable[[Any], WireError]


@dataclass(frozen=True, slots=True)
class Validation:
    """What was wrong with a request, in plain words (built from pydantic's errors)."""

    invalid_json: bool
    missing_body: bool
    problems: tuple[str, ...]

    def text(self, *, separator: str = "; ") -> str:
        return separator.join(self.problems)


@dataclass(frozen=True, slots=True)
class ErrorFormat:
    """How one protocol answers errors.

    - `render`: the protocol's wire shape for a WireError.
    - `table`: exception type -> answer; looked up along the exception's MRO; must cover CORE_ERRORS.
    - `http`: routing and other HTTP errors (404 unknown route, 405, ...) from (status, detail).
    - `validation`: a request that did not validate.
    - `too_large`, `internal`: a body over the limit; anything unexpected (logged with its trace).
    """

    render: Callable[[WireError], Response]
    table: Mapping[type[BaseException], ErrorEntry]
    http: Callable[[int, str], WireError]
    validation: Callable[[Validation], WireError]
    too_large: WireError
    internal: WireError

    def missing_core_errors(self) -> list[str]:
        return [error.__name__ for error in CORE_ERRORS if self.lookup(error) is None]

    def lookup(self, error_type: type[BaseException]) -> ErrorEntry | None:
        for cls in error_type.__mro__:
            if cls in self.table:
                return self.table[cls]
        return None

    def wire(self, exc: BaseException) -> WireError:
        """The answer for an exception (the internal error when the table does not know it)."""
        if isinstance(exc, BodyTooLarge):
            return self.too_large
        if isinstance(exc, RequestValidationError):
            return self.validation(describe(exc))
        entry = self.lookup(type(exc))
        if entry is None:
            return self.internal
        return entry if isinstance(entry, WireError) else entry(exc)

    def response(self, exc: BaseException) -> Response:
        return self.render(self.wire(exc))


def describe(exc: RequestValidationError) -> Validation:
    problems: list[str] = []
    invalid_json = missing_body = False
    for error in exc.errors():
        kind = error.get("type")
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        if kind == "json_invalid":
            invalid_json = True
        elif kind == "missing" and not location:
            missing_body = True
        problems.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return Validation(invalid_json=invalid_json, missing_body=missing_body, problems=tuple(problems))


def install_errors(app: FastAPI, errors: ErrorFormat) -> None:
    missing = errors.missing_core_errors()
    if missing:
        raise TypeError(f"the error table of {app.title!r} does not map {', '.join(missing)}")

    async def on_http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        wire = errors.http(exc.status_code, exc.detail if isinstance(exc.detail, str) else str(exc.detail))
        if exc.headers and not wire.headers:
            wire = WireError(wire.status, wire.code, wire.message, dict(exc.headers))
        return errors.render(wire)

    async def on_known(_request: Request, exc: Exception) -> Response:
        return errors.response(exc)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return errors.render(errors.internal)

    app.add_exception_handler(StarletteHTTPException, on_http_error)
    for error_type in (RequestValidationError, BodyTooLarge, *errors.table):
        if issubclass(error_type, Exception):
            app.add_exception_handler(error_type, on_known)
    app.add_exception_handler(Exception, on_unexpected)
