"""Logs: configuration, level (changes apply live), recent records with filters, stats, clear."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from agenthub.protocols.maicraft.deps import CurrentBot
from agenthub.protocols.maicraft.envelope import ok
from agenthub.protocols.maicraft.errors import ValidationFailed
from agenthub.protocols.maicraft.logring import LEVELS, LOGGER, logger

router = APIRouter(prefix="/api/logs")
log = logger("LogManager")


class LevelBody(BaseModel):
    level: str


@router.get("/config")
async def log_config(bot: CurrentBot) -> dict[str, Any]:
    return ok({"level": bot.ring.current, "max_capacity": bot.ring.capacity, "logger": LOGGER})


@router.get("/level")
async def get_level(bot: CurrentBot) -> dict[str, Any]:
    return ok({"current_level": bot.ring.current, "available_levels": list(LEVELS)})


@router.post("/level")
async def set_level(bot: CurrentBot, body: LevelBody) -> dict[str, Any]:
    level = body.level.upper()
    if level not in LEVELS:
        raise ValidationFailed(f"无效的日志级别: {body.level}, 可选: {', '.join(LEVELS)}")
    bot.ring.set_level(level)
    log.warning("日志级别已更新为 %s", level)
    bot.log_feed.level_changed(level, list(bot.log_clients))
    return ok({"message": f"日志级别已更新为 {level}"})


@router.get("/recent")
async def recent_logs(
    bot: CurrentBot,
    limit: int = 100,
    level: str | None = None,
    module: str | None = None,
    message_contains: str | None = None,
    since_minutes: Annotated[float | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    if not 1 <= limit <= 1000:
        limit = 100  # the original quietly falls back to its default
    entries = list(bot.ring.entries)
    if level:
        entries = [e for e in entries if e.level == level.upper()]
    if module:
        entries = [e for e in entries if module.lower() in e.module.lower()]
    if message_contains:
        entries = [e for e in entries if message_contains in e.message]
    if since_minutes is not None:
        cutoff = (time.time() - since_minutes * 60) * 1000
        entries = [e for e in entries if e.timestamp >= cutoff]
    total = len(entries)
    chosen = entries[-limit:]
    return ok({"logs": [e.wire() for e in chosen], "total": total, "has_more": total > len(chosen)})


@router.get("/stats")
async def log_stats(bot: CurrentBot) -> dict[str, Any]:
    return ok(bot.ring.stats())


@router.post("/clear")
async def clear_logs(bot: CurrentBot) -> dict[str, Any]:
    cleared = bot.ring.clear()
    return ok({"cleared_count": cleared, "message": f"已清空 {cleared} 条日志"})
