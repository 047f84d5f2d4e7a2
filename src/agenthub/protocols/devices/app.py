"""The distributed task system app (seed 001), port 1888: HTTP and Socket.IO on one ASGI app."""

from __future__ import annotations

import socketio
from fastapi import FastAPI
from starlette.types import ASGIApp

from agenthub.protocols.devices import errors, routes
from agenthub.protocols.devices.namespace import DevicesNamespace
from agenthub.protocols.devices.service import DevicesService
from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.runtime import Runtime


def create_app(service: DevicesService) -> ASGIApp:
    api = FastAPI(
        title="agenthub · distributed task system", version="1.0.0", docs_url="/docs", redoc_url=None
    )
    api.state.runtime = service.runtime
    api.state.devices = service
    errors.install(api)
    api.include_router(routes.router())
    limited = BodySizeLimit(api, max_bytes=service.settings.max_payload_bytes, too_large=errors.too_large)
    app: ASGIApp = socketio.ASGIApp(service.sio, other_asgi_app=limited, socketio_path="socket.io")
    return app


def build_service(runtime: Runtime, settings: DevicesSettings) -> DevicesService:
    """One service (and one Socket.IO server) per runtime, shared by the app and the background loops."""
    service = DevicesService(runtime, settings, _socketio_server(settings))
    service.sio.register_namespace(DevicesNamespace(service))
    return service


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
