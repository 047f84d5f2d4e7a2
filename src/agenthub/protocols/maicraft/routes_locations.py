"""Locations the agent remembers (durable, per bot): create (a taken name gets a `~N` suffix), read,
update info, delete, stats."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from agenthub.protocols.maicraft.deps import CurrentBot
from agenthub.protocols.maicraft.envelope import ok
from agenthub.protocols.maicraft.errors import ValidationFailed

router = APIRouter(prefix="/api/locations")


class PositionBody(BaseModel):
    x: float
    y: float
    z: float


class NewLocation(BaseModel):
    name: str
    info: str = ""
    position: PositionBody


class LocationUpdate(BaseModel):
    info: str | None = None
    position: PositionBody | None = None


@router.get("")
async def list_locations(bot: CurrentBot) -> dict[str, Any]:
    found = await bot.repo.locations()
    return ok({"locations": [loc.wire() for loc in found], "total": len(found)})


@router.get("/stats")
async def location_stats(bot: CurrentBot) -> dict[str, Any]:
    found = await bot.repo.locations()
    # The original counts by kind; ours groups a name with its `~N` duplicates.
    kinds = Counter(loc.name.split("~", 1)[0] for loc in found)
    most = max(found, key=lambda loc: loc.visit_count, default=None)
    recent = max(found, key=lambda loc: loc.created_at, default=None)
    return ok(
        {
            "total_locations": len(found),
            "type_distribution": dict(kinds),
            "most_visited": most.wire() if most else None,
            "recently_added": recent.wire() if recent else None,
        }
    )


@router.post("")
async def create_location(bot: CurrentBot, body: NewLocation) -> dict[str, Any]:
    if not body.name.strip():
        raise ValidationFailed("位置名称不能为空")
    p = body.position
    created = await bot.repo.add_location(
        name=body.name.strip(),
        info=body.info,
        x=math.floor(p.x),
        y=math.floor(p.y),
        z=math.floor(p.z),
        now=datetime.now(UTC),
    )
    return ok(created.wire())


@router.get("/{name}")
async def get_location(bot: CurrentBot, name: str) -> dict[str, Any]:
    return ok((await bot.repo.location(name)).wire())


@router.put("/{name}")
async def update_location(bot: CurrentBot, name: str, body: LocationUpdate) -> dict[str, Any]:
    if body.position is not None:
        raise ValidationFailed("位置坐标更新暂不支持")
    if body.info is None:
        return ok((await bot.repo.location(name)).wire())
    return ok((await bot.repo.update_location_info(name, body.info)).wire())


@router.delete("/{name}")
async def delete_location(bot: CurrentBot, name: str) -> dict[str, Any]:
    return ok((await bot.repo.delete_location(name)).wire())
