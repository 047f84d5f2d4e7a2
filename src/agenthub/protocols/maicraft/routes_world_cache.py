"""Containers and blocks the bot has seen (in-memory caches filled by the game polling)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from agenthub.protocols.maicraft.caches import Container, container_type, position
from agenthub.protocols.maicraft.deps import CurrentBot
from agenthub.protocols.maicraft.envelope import ok
from agenthub.protocols.maicraft.errors import GameUnavailable, ValidationFailed
from agenthub.protocols.maicraft.game import tool_payload
from agenthub.protocols.maicraft.state import BotState

router = APIRouter()


@router.get("/api/containers")
async def list_containers(
    bot: CurrentBot,
    type: Literal["all", "chest", "furnace"] = "all",
    range: Annotated[int, Query(ge=1, le=128)] = 32,
) -> dict[str, Any]:
    x, y, z = bot.game.position()
    found = bot.game.containers.within(type, (x, y, z), range)
    center = {"x": x, "y": y, "z": z}
    return ok(
        {
            "containers": found,
            "total": len(found),
            "center_position": center,
            "range": range,
            "type_filter": type,
        }
    )


async def _block_name(bot: BotState, x: int, y: int, z: int) -> str | None:
    payload = tool_payload(await bot.game.call("query_block", {"x": x, "y": y, "z": z}))
    if not payload.get("ok"):
        if payload.get("error_code") == "service_unavailable":
            raise GameUnavailable(f"无法获取游戏状态: {payload.get('error_message')}")
        return None
    data = payload.get("data") or {}
    return str(data.get("name")) if data.get("name") else None


@router.get("/api/containers/verify/{x}/{y}/{z}")
async def verify_container(bot: CurrentBot, x: int, y: int, z: int) -> dict[str, Any]:
    pos = (x, y, z)
    name = await _block_name(bot, x, y, z)
    kind = container_type(name or "")
    cache = bot.game.containers.containers
    if kind is None:
        if pos in cache:
            cache[pos].verified = False
        return ok({"exists": False, "position": position(pos), "type": name, "inventory": {}})
    known = cache.get(pos)
    if known is None or known.type != kind:
        known = cache[pos] = Container(kind, name or kind)
    known.verified = True
    return ok({"exists": True, "position": position(pos), "type": kind, "inventory": dict(known.inventory)})


@router.delete("/api/containers/invalid")
async def clear_invalid(bot: CurrentBot) -> dict[str, Any]:
    cache = bot.game.containers.containers
    removed = 0
    for pos in list(cache):
        if not cache[pos].verified or container_type(await _block_name(bot, *pos) or "") is None:
            del cache[pos]
            removed += 1
    return ok({"removed_count": removed, "message": f"已清理 {removed} 个无效容器"})


@router.get("/api/containers/stats")
async def container_stats(bot: CurrentBot) -> dict[str, Any]:
    return ok(bot.game.containers.stats())


@router.get("/api/blocks/stats")
async def block_stats(bot: CurrentBot) -> dict[str, Any]:
    blocks = bot.game.blocks
    return ok(
        {
            "total_blocks": len(blocks.blocks),
            "cached_blocks": len(blocks.solid()),
            "memory_usage_mb": blocks.memory_mb(),
        }
    )


@router.get("/api/blocks/region")
async def block_region(
    bot: CurrentBot, x: float, z: float, radius: Annotated[int, Query(ge=1, le=64)] = 16
) -> dict[str, Any]:
    found = bot.game.blocks.region(x, z, radius)
    return ok({"blocks": found, "total": len(found), "center": {"x": x, "z": z}, "radius": radius})


@router.get("/api/blocks/search")
async def block_search(
    bot: CurrentBot,
    name: str | None = None,
    search_term: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    # The seed names no parameter: `name` (the original's), or `search_term` like the answer's field.
    term = name if name is not None else search_term
    if not term:
        raise ValidationFailed("参数验证失败: 需要 name (方块名称的一部分)")
    found = bot.game.blocks.search(term, limit)
    return ok({"blocks": found, "total": len(found), "search_term": term, "limit": limit})


@router.get("/api/blocks/types")
async def block_types(bot: CurrentBot) -> dict[str, Any]:
    types = bot.game.blocks.types()
    return ok({"types": types, "total_types": len(types)})


@router.get("/api/blocks/position/{x}/{y}/{z}")
async def block_at(bot: CurrentBot, x: int, y: int, z: int) -> dict[str, Any]:
    cached = bot.game.blocks.blocks.get((x, y, z))
    if cached is None:
        return ok({"position": position((x, y, z)), "exists": False, "message": "该位置的方块信息未被缓存"})
    here = bot.game.position() if bot.game.error is None else None
    distance = math.dist((x, y, z), here) if here else 0.0
    return ok({**cached.wire((x, y, z), distance), "exists": cached.type != "air"})


@router.delete("/api/blocks/cache")
async def clear_blocks(bot: CurrentBot) -> dict[str, Any]:
    cleared = bot.game.blocks.clear()
    return ok({"cleared_blocks": cleared, "message": f"已清空 {cleared} 个方块缓存"})
