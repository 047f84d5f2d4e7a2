"""`GET /health`: whether this replica can reach its database and bus (load balancers ask it)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from agenthub.protocols.iac.context import Iac

router = APIRouter()


@router.get("/health")
async def health(iac: Iac) -> JSONResponse:
    runtime = iac.runtime
    db, bus = await runtime.db.ping(), await runtime.bus.ping()
    body = {
        "status": "ok" if db and bus else "degraded",
        "db": "up" if db else "down",
        "bus": "up" if bus else "down",
    }
    return JSONResponse(body, status_code=200 if db and bus else 503)
