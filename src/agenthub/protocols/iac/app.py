"""The IaC agent platform app (seed 004), port 8080."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp

from agenthub.protocols.iac import errors, routes_agent, routes_operator, routes_public, sockets
from agenthub.protocols.iac.context import IacState
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.docs import install_docs


def create_app(iac: IacState) -> ASGIApp:
    app = FastAPI(title="agenthub · IaC agent platform", version="1.0.0", docs_url=None, redoc_url=None)
    install_docs(app)  # /docs with Swagger UI served from here, no CDN
    app.state.runtime = iac.runtime
    app.state.iac = iac
    errors.install(app)
    app.include_router(routes_public.router)
    app.include_router(routes_agent.router)
    app.include_router(routes_operator.router)
    app.include_router(sockets.router)
    return BodySizeLimit(app, max_bytes=iac.settings.max_body_bytes, errors=errors.ERRORS)
