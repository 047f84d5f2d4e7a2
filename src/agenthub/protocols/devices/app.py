"""The distributed task system app (seed 001), port 1888: HTTP and Socket.IO on one ASGI app."""

from __future__ import annotations

from dataclasses import dataclass

import socketio
from fastapi import FastAPI
from starlette.types import ASGIApp

from agenthub.protocols.devices import errors
from agenthub.protocols.devices.fast_path import DispatchFastPath
from agenthub.protocols.devices.namespace import DevicesNamespace, SocketPush
from agenthub.protocols.devices.routes import router
from agenthub.protocols.devices.service import DevicesService
from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.docs import install_docs
from agenthub.server.errors import install_errors
from agenthub.server.runtime import Runtime


@dataclass(frozen=True, slots=True)
class DevicesState:
    """The protocol's state, built once per runtime: the service and the Socket.IO server that carries it."""

    service: DevicesService
    sio: socketio.AsyncServer


def build_state(runtime: Runtime, settings: DevicesSettings) -> DevicesState:
    sio = _socketio_server(settings)
    service = DevicesService(runtime, settings, SocketPush(sio))
    sio.register_namespace(DevicesNamespace(service))
    return DevicesState(service, sio)


def create_app(state: DevicesState) -> ASGIApp:
    service = state.service
    api = FastAPI(title="agenthub · distributed task system", version="1.0.0", docs_url=None, redoc_url=None)
    install_docs(api)  # /docs with Swagger UI served from here, no CDN
    api.state.runtime = service.runtime
    api.state.devices = service
    install_errors(api, errors.HTTP_ERRORS)
    api.include_router(router)
    limited = BodySizeLimit(
        DispatchFastPath(api, service),
        max_bytes=service.settings.max_payload_bytes,
        errors=errors.HTTP_ERRORS,
    )
    app: ASGIApp = socketio.ASGIApp(state.sio, other_asgi_app=limited, socketio_path="socket.io")
    return app


def _socketio_server(settings: DevicesSettings) -> socketio.AsyncServer:
    origins = settings.cors_allowed_origins.strip()
    return socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins="*" if origins == "*" else [o.strip() for o in origins.split(",") if o.strip()],
        max_http_buffer_size=settings.max_payload_bytes,
        ping_interval=settings.ping_interval_seconds,
        ping_timeout=settings.ping_timeout_seconds,
        logger=False,
        engineio_logger=False,
    )
