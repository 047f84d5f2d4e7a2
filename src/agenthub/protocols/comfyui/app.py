"""The ComfyUI agent platform app (seed 003), port 8099."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp

from agenthub.protocols.comfyui import errors, routes_agent, routes_operator
from agenthub.protocols.comfyui.context import context_of
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.runtime import Runtime


def create_app(runtime: Runtime) -> ASGIApp:
    app = FastAPI(
        title="agenthub · ComfyUI agent platform", version="1.0.0", docs_url="/docs", redoc_url=None
    )
    app.state.runtime = runtime
    app.state.comfyui = context_of(runtime)
    errors.install(app)
    app.include_router(routes_agent.router())
    app.include_router(routes_operator.router())
    return BodySizeLimit(app, max_bytes=runtime.settings.comfyui.max_body_bytes, too_large=errors.too_large)
