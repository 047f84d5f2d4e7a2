"""The MaicraftAgent API app (seed 002) for one bot: REST, the seven WebSockets, CORS `*` (the original's
web UI is served from another origin), and the optional access token."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from agenthub.protocols.maicraft import (
    errors,
    routes_game,
    routes_locations,
    routes_logs,
    routes_tools,
    routes_world_cache,
    routes_ws,
)
from agenthub.protocols.maicraft.access import AccessToken
from agenthub.protocols.maicraft.state import BotState, MaicraftState
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.docs import install_docs

MAX_BODY_BYTES = 1_000_000


def bot_app(bot: BotState) -> ASGIApp:
    app = FastAPI(
        title=f"agenthub · MaicraftAgent API ({bot.name})", version="1.0.0", docs_url=None, redoc_url=None
    )
    install_docs(app)  # /docs with Swagger UI served from here, no CDN
    app.state.bot = bot
    errors.install(app)
    for module in (routes_tools, routes_logs, routes_game, routes_locations, routes_world_cache, routes_ws):
        app.include_router(module.router)
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"], allow_credentials=False
    )
    served: ASGIApp = BodySizeLimit(app, max_bytes=MAX_BODY_BYTES, errors=errors.FORMAT)
    token = bot.settings.access_token
    if token is not None and token.get_secret_value():
        served = AccessToken(served, token.get_secret_value())
    return served


def create_app(state: MaicraftState) -> ASGIApp:
    return bot_app(state.default)
