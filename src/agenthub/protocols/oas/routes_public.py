"""Seed 000 section 5: public endpoints (no authentication)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.templates import USER_TYPES, catalogue

router = APIRouter()


@router.get("/health")
async def health(oas: Oas) -> JSONResponse:
    runtime = oas.runtime
    db_up = await runtime.db.ping()
    redis = "disabled"
    if runtime.settings.storage.redis_url:
        redis = "up" if await runtime.bus.ping() else "down"
    healthy = db_up and redis != "down"
    body = {"status": "ok" if healthy else "degraded", "redis": redis, "db": "up" if db_up else "down"}
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/api/v1/task-templates")
async def task_templates(user_type: str | None = None) -> dict[str, Any]:
    if user_type is not None and user_type not in USER_TYPES:
        raise OasError(400, f"无效的用户类型: {user_type}")
    return {"data": catalogue(user_type)}
