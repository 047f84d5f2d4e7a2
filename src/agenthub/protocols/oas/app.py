"""The Oas2.0 cloud backend app (seed 000), port 7000."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp

from agenthub.protocols.oas import (
    errors,
    routes_agent,
    routes_manager,
    routes_manager_ops,
    routes_manager_users,
    routes_public,
    routes_super,
    routes_user,
    routes_user_auth,
)
from agenthub.protocols.oas.context import OasContext
from agenthub.protocols.oas.scan import routes_agent as scan_agent
from agenthub.protocols.oas.scan import routes_user as scan_user
from agenthub.protocols.oas.scan import ws as scan_ws
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.docs import install_docs


def create_app(oas: OasContext) -> ASGIApp:
    app = FastAPI(title="agenthub · Oas2.0 cloud backend", version="1.0.0", docs_url=None, redoc_url=None)
    install_docs(app)  # /docs with Swagger UI served from here, no CDN
    app.state.runtime = oas.runtime
    app.state.oas = oas
    errors.install(app)
    for module in (
        routes_public,
        routes_agent,
        routes_super,
        routes_manager,
        routes_user_auth,
        scan_agent,
        scan_user,
        scan_ws,
        routes_manager_users,
        routes_manager_ops,
        routes_user,
    ):
        app.include_router(module.router)
    return BodySizeLimit(app, max_bytes=oas.settings.max_body_bytes, too_large=errors.too_large)
