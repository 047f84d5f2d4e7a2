"""The Oas2.0 cloud backend app (seed 000), port 7000."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp

from agenthub.protocols.oas import (
    errors,
    routes_agent,
    routes_audit,
    routes_batch,
    routes_bootstrap,
    routes_codes,
    routes_manager,
    routes_manager_ops,
    routes_manager_users,
    routes_operator_reads,
    routes_public,
    routes_renewal_keys,
    routes_super,
    routes_user,
    routes_user_auth,
)
from agenthub.protocols.oas.audit import install_audit
from agenthub.protocols.oas.context import OasContext
from agenthub.protocols.oas.envelope import OasResponse, SeedResponse
from agenthub.protocols.oas.fast_path import AgentFastPath
from agenthub.protocols.oas.scan import routes_agent as scan_agent
from agenthub.protocols.oas.scan import routes_user as scan_user
from agenthub.protocols.oas.scan import ws as scan_ws
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.docs import install_docs


def create_app(oas: OasContext) -> ASGIApp:
    app = FastAPI(
        title="agenthub · Oas2.0 cloud backend",
        version="1.0.0",
        docs_url=None,
        redoc_url=None,
        default_response_class=OasResponse,  # payload keys at the top level and under "data" (envelope.py)
    )
    install_docs(app)  # /docs with Swagger UI served from here, no CDN
    app.state.runtime = oas.runtime
    app.state.oas = oas
    errors.install(app)
    for module in (
        routes_public,
        routes_super,
        routes_manager,
        routes_user_auth,
        routes_manager_users,
        routes_manager_ops,
        routes_user,
    ):
        app.include_router(module.router)
    for seed_shaped in (routes_agent, scan_agent, scan_user, scan_ws):
        app.include_router(seed_shaped.router, default_response_class=SeedResponse)
    for module in (
        routes_operator_reads,
        routes_renewal_keys,
        routes_codes,
        routes_audit,
        routes_bootstrap,
        routes_batch,
    ):
        app.include_router(module.router)
    install_audit(app)
    return BodySizeLimit(AgentFastPath(app, oas), max_bytes=oas.settings.max_body_bytes, errors=errors.FORMAT)
