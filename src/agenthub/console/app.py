"""The console app: the JSON API, the live stream and the static front end (no CDN, no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp

from agenthub.console import live, routes_api
from agenthub.console.errors import ERRORS
from agenthub.console.service import ConsoleService
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.errors import install_errors
from agenthub.server.metrics import metrics_route

STATIC = Path(__file__).parent / "static"
# Everything the page loads comes from this server: a script injected anywhere would not run.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def index() -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


def create_app(console: ConsoleService) -> ASGIApp:
    app = FastAPI(title="agenthub · console", version="1.0.0", docs_url=None, redoc_url=None)
    app.state.runtime = console.runtime
    app.state.console = console
    install_errors(app, ERRORS)

    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.include_router(routes_api.router)
    app.include_router(live.router)
    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.router.routes.append(metrics_route(console.runtime))  # Prometheus scrapes it without a login
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return BodySizeLimit(app, max_bytes=64 * 1024, errors=ERRORS)
