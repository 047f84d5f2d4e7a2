"""Errors the Oas agent client raises.

OasApiError            the server answered with an error status ({"detail": ...})
 ├── Unauthorized      401: bad credentials or an expired token (the client logs in again once by itself)
 ├── Forbidden         403: e.g. the node no longer holds the lease ("租约不匹配"), or the manager expired
 ├── NotFound          404: unknown job or user
 └── Conflict          409: the job's state does not allow the call
"""

from __future__ import annotations


class OasApiError(Exception):
    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"{status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


class Unauthorized(OasApiError):
    pass


class Forbidden(OasApiError):
    pass


class NotFound(OasApiError):
    pass


class Conflict(OasApiError):
    pass


def error_for(status_code: int, detail: str) -> OasApiError:
    kinds: dict[int, type[OasApiError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict}
    return kinds.get(status_code, OasApiError)(status_code, detail)
