"""Refuses request bodies over a size limit in the protocol's own error format: at once when the declared
Content-Length is too large, and as soon as a chunked (or lying) body passes the limit while it is read.

In the second case the 413 is sent from inside `receive`, before the app can turn the interrupted read into
a parsing error; whatever the app sends afterwards is dropped."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthub.server.errors import BodyTooLarge, ErrorFormat

__all__ = ["BodySizeLimit", "BodyTooLarge"]


class BodySizeLimit:
    """`errors` is the protocol's ErrorFormat: its `too_large` answer, in its wire shape."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, errors: ErrorFormat) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.errors = errors

    def too_large(self) -> Response:
        return self.errors.render(self.errors.too_large)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_bytes:
                await self.too_large()(scope, receive, send)
                return
            if not chunked:
                # The server reads exactly the declared length: this body cannot grow past the limit, so
                # the request goes on unwrapped (the common case, and the agents' hot path).
                await self.app(scope, receive, send)
                return
        seen = 0
        started = answered = False

        async def refuse() -> None:
            nonlocal answered
            if not started and not answered:
                answered = True
                await self.too_large()(scope, receive, send)

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    await refuse()
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            await refuse()
