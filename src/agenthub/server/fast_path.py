"""Plumbing for a protocol's fast path: an ASGI layer in front of its FastAPI app that answers its hottest
calls by calling their handlers itself, and hands everything else to FastAPI unchanged.

Through FastAPI each request pays for route matching over every route, the middleware stack, dependency
solving and response validation; for a call a busy fleet sends hundreds of times a second that framework
work cost as much CPU as the call's own writes (py-spy, see README "Performance"). A fast path calls the
same handler with the same checks and answers errors through the protocol's own `ErrorFormat`; whatever it
is not sure of (another method or path, a body cut short, anything odd) it hands on with the body it already
read replayed, so FastAPI answers exactly as it always has. Each protocol's fast path has a test that
compares its answers byte for byte with FastAPI's.
"""

from __future__ import annotations

from fastapi.routing import APIRoute, APIRouter
from starlette.types import Message, Receive, Scope


async def read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The request body; with the message that ended the read early (a disconnect), if one did."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def replay(body: bytes, ended: Message | None, receive: Receive) -> Receive:
    """A receive that gives the body already read once more, then goes on with the connection's own."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": ended is not None}]
    if ended is not None:
        pending.append(ended)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def header_values(scope: Scope, name: bytes) -> list[str]:
    """Every value of a request header, in order (`name` in lower case, as ASGI gives it)."""
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


def route_of(router: APIRouter, path: str, method: str) -> APIRoute:
    """The router's route for a path template and method: set as `scope["route"]`, it labels the request in
    the HTTP metrics as if FastAPI had routed it."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return route
    raise LookupError(f"no route {method} {path}")
