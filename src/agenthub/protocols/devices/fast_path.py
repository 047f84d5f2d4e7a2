"""`POST /api/dispatch-task` straight to its handler, in front of FastAPI (see agenthub.server.fast_path).

Dispatching is the call a busy caller makes hundreds of times a second; through FastAPI the framework's work
was about a fifth of the server's CPU per task (py-spy). This layer calls the same device-key check, the same
body parser and the same handler as the route, and answers errors with the same `HTTP_ERRORS`. A request it
is not sure of (another path, a body cut short, the key header given twice) goes to FastAPI unchanged.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from agenthub.protocols.devices import errors, routes
from agenthub.protocols.devices.service import DevicesService
from agenthub.server.fast_path import header_values, read_body, replay, route_of

log = logging.getLogger(__name__)


class DispatchFastPath:
    def __init__(self, app: FastAPI, service: DevicesService) -> None:
        self.app = app
        self.service = service
        self._route = route_of(routes.router, routes.DISPATCH_PATH, "POST")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != routes.DISPATCH_PATH:
            await self.app(scope, receive, send)
            return
        keys = header_values(scope, b"x-device-key")
        body, ended = await read_body(receive)
        if ended is not None or len(keys) > 1:
            await self.app(scope, replay(body, ended, receive), send)
            return
        scope["route"] = self._route
        try:
            await routes.device_key(self.service, keys[0] if keys else None)
            answer = await routes.dispatch_task(routes.json_object_of(body), self.service)
            response: Response = JSONResponse(answer)
        except Exception as exc:
            if errors.HTTP_ERRORS.lookup(type(exc)) is None:
                log.exception("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
            response = errors.HTTP_ERRORS.response(exc)
        await response(scope, receive, send)
