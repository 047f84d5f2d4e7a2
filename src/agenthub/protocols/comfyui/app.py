"""The ComfyUI agent platform app (seed 003), port 8099."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp

from agenthub.protocols.comfyui import routes_agent, routes_operator
from agenthub.protocols.comfyui.context import ComfyuiContext
from agenthub.protocols.comfyui.error_format import ERRORS, install_body_errors
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.docs import install_docs
from agenthub.server.errors import install_errors


def create_app(comfy: ComfyuiContext) -> ASGIApp:
    app = FastAPI(title="agenthub · ComfyUI agent platform", version="1.0.0", docs_url=None, redoc_url=None)
    install_docs(app)  # /docs with Swagger UI served from here, no CDN
    app.state.runtime = comfy.runtime
    app.state.comfyui = comfy
    install_errors(app, ERRORS)
    install_body_errors(app)
    app.include_router(routes_agent.router)
    app.include_router(routes_operator.router)
    return BodySizeLimit(app, max_bytes=comfy.settings.max_body_bytes, errors=ERRORS)
