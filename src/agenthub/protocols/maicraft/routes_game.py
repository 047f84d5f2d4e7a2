"""Game state from the bot's MCP server: snapshot, player, inventory, world, nearby entities."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from agenthub.protocols.maicraft.deps import CurrentBot
from agenthub.protocols.maicraft.envelope import now_ms, ok

router = APIRouter(prefix="/api/environment")


@router.get("/snapshot")
async def snapshot(bot: CurrentBot) -> dict[str, Any]:
    game = bot.game
    return ok(
        {"player": game.player(), "world": game.world(), "markers": game.markers(), "timestamp": now_ms()}
    )


@router.get("/player")
async def player(bot: CurrentBot) -> dict[str, Any]:
    return ok(bot.game.player())


@router.get("/inventory")
async def inventory(bot: CurrentBot) -> dict[str, Any]:
    return ok(bot.game.inventory())


@router.get("/world")
async def world(bot: CurrentBot) -> dict[str, Any]:
    return ok(bot.game.world())


@router.get("/nearby/entities")
async def nearby_entities(
    bot: CurrentBot, range_limit: Annotated[int, Query(ge=1, le=64)] = 16
) -> dict[str, Any]:
    entities = bot.game.entities(range_limit)
    return ok({"entities": entities, "count": len(entities), "range": range_limit})
