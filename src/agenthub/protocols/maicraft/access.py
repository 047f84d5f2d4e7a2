"""The optional access token (off by default, so the original web UI works unchanged): HTTP requests send
`Authorization: Bearer <token>` (or `?token=`), WebSockets `?token=`. `/health` stays open."""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from agenthub.protocols.maicraft.errors import FORMAT as ERRORS
from agenthub.protocols.maicraft.errors import VALIDATION_ERROR
from agenthub.server.errors import WireError

DENIED = WireError(401, VALIDATION_ERROR, "访问令牌缺失或无效")


class AccessToken:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._token = token

    def _allowed(self, scope: Scope) -> bool:
        if scope.get("path") == "/health":
            return True
        given = QueryParams(scope.get("query_string", b"").decode("latin-1")).get("token")
        auth = Headers(scope=scope).get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        return given is not None and hmac.compare_digest(given.encode(), self._token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self._app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": DENIED.message})
            return
        if scope.get("method") == "OPTIONS":  # CORS preflights carry no credentials
            await self._app(scope, receive, send)
            return
        await ERRORS.render(DENIED)(scope, receive, send)
