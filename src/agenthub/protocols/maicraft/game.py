"""A bot's game state: polled from its MCP server the way the original agent does (game state, player
status with inventory, players and entities around, recent events, the block cube around the player) and
shaped into the seed's Player, World, inventory and Entity structures."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.types import CallToolResult, TextContent

from agenthub.protocols.maicraft.caches import BlockCache, ContainerCache, Pos
from agenthub.protocols.maicraft.errors import (
    MCP_NOT_CONNECTED,
    GameUnavailable,
    MaicraftError,
    McpUnavailable,
)
from agenthub.protocols.maicraft.logring import logger
from agenthub.protocols.maicraft.mcp_link import McpLink

log = logger("GamePoller")
events_log = logger("GameEvents")

WEATHER_NAMES = {"clear": "晴朗", "rain": "下雨", "thunder": "雷雨", "snow": "下雪"}
UNKNOWN = "未知"


def time_name(time_of_day: int) -> str:
    if 6000 <= time_of_day < 12000:
        return "白天"
    if 12000 <= time_of_day < 18000:
        return "黄昏"
    return "夜晚"


def tool_payload(result: CallToolResult) -> dict[str, Any]:
    """The `{ok, data, ...}` object of a tool result: structured content, else the first text parsed."""
    if isinstance(result.structuredContent, dict):
        return result.structuredContent
    for item in result.content:
        if isinstance(item, TextContent):
            try:
                parsed = json.loads(item.text)
            except ValueError:
                break
            if isinstance(parsed, dict):
                return parsed
    return {"ok": not result.isError, "data": None}


class BotGame:
    def __init__(
        self,
        link: McpLink | None,
        *,
        area_radius: int,
        area_interval: float,
        entity_range: int,
        on_answer: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.link = link
        self.blocks = BlockCache()
        self.containers = ContainerCache()
        self.events: deque[dict[str, Any]] = deque(maxlen=500)
        self._area_radius = area_radius
        self._area_interval = area_interval
        self._entity_range = entity_range
        self._on_answer = on_answer
        self._state: dict[str, Any] | None = None
        self._status: dict[str, Any] | None = None
        self._players: list[dict[str, Any]] = []
        self._entities: list[dict[str, Any]] = []
        self._newest_tick: int | None = None
        # Events of the newest tick already taken (insertion-ordered, bounded above the MCP server's ring
        # of 1000 events, so a forgotten key can no longer come back).
        self._taken: dict[str, None] = {}
        self._last_area = 0.0
        self.error: MaicraftError | None = McpUnavailable(MCP_NOT_CONNECTED)
        self.polls = 0
        self.poll_seconds = 0.0

    # -- polling --------------------------------------------------------------------------------------

    async def call(
        self, name: str, arguments: dict[str, Any], *, timeout: float | None = None
    ) -> CallToolResult:
        if self.link is None:
            raise McpUnavailable(MCP_NOT_CONNECTED)
        return await self.link.call(name, arguments, timeout=timeout)

    async def _data(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        payload = tool_payload(await self.call(name, arguments))
        if not payload.get("ok"):
            code, text = payload.get("error_code"), payload.get("error_message")
            if code == "service_unavailable":
                raise GameUnavailable(f"无法获取游戏状态: {text or 'bot not ready'}")
            raise GameUnavailable(f"{name} 失败: {code}: {text}")
        data = payload.get("data")
        return data if isinstance(data, dict) else {}

    async def poll(self) -> None:
        started = time.perf_counter()
        try:
            await self._poll()
            if self.error is not None:
                log.info("game state available again")
            self.error = None
        except MaicraftError as exc:
            self._failed(exc)
        except Exception as exc:  # e.g. another MCP server without one of the tools polled
            self._failed(GameUnavailable(f"无法获取游戏状态: {type(exc).__name__}: {exc}"))
        finally:
            self.polls += 1
            self.poll_seconds += time.perf_counter() - started

    def _failed(self, exc: MaicraftError) -> None:
        if self.error is None or self.error.message != exc.message:
            log.warning("game state unavailable: %s", exc.message)
        self.error = exc

    async def _poll(self) -> None:
        if self.link is None or not self.link.is_connected:
            raise McpUnavailable(
                MCP_NOT_CONNECTED
                if self.link is None or self.link.last_error is None
                else f"{MCP_NOT_CONNECTED} ({self.link.last_error})"
            )
        # Inclusive of the newest tick seen: several events share a tick (and a server whose clock does not
        # advance reports every event at one tick); those already taken are skipped by key.
        since = {} if self._newest_tick is None else {"sinceTick": self._newest_tick}
        try:
            state, status, players, entities, events = await asyncio.gather(
                self._data("query_game_state", {}),
                self._data("query_player_status", {"includeInventory": True}),
                self._data("query_surroundings", {"type": "players", "range": 16}),
                self._data("query_surroundings", {"type": "entities", "range": self._entity_range}),
                self._data("query_recent_events", since),
            )
        finally:
            if self._on_answer is not None and self.link.is_connected:
                await self._on_answer()
        self._state, self._status = state, status
        self._players = list((players.get("players") or {}).get("list") or [])
        self._entities = list((entities.get("entities") or {}).get("list") or [])
        self._take_events(list(events.get("events") or []))
        if time.monotonic() - self._last_area >= self._area_interval:
            await self._poll_area()

    def _take_events(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            key = json.dumps(event, sort_keys=True, default=str)
            tick = event.get("gameTick")
            tick = int(tick) if isinstance(tick, int | float) else 0
            if tick == self._newest_tick and key in self._taken:
                continue
            if self._newest_tick is None or tick > self._newest_tick:
                self._newest_tick = tick
                self._taken.clear()
            if tick == self._newest_tick:
                self._taken[key] = None
                if len(self._taken) > 2000:
                    del self._taken[next(iter(self._taken))]
            self.events.append(event)
            if event.get("type") == "chat":
                events_log.info("<%s> %s", event.get("username"), event.get("message"))

    async def _poll_area(self) -> None:
        x, y, z = self._block_position()
        r = self._area_radius
        box: tuple[Pos, Pos] = ((x - r, y - r, z - r), (x + r, y + r, z + r))
        data = await self._data(
            "query_area_blocks",
            {
                "startX": box[0][0], "startY": box[0][1], "startZ": box[0][2],
                "endX": box[1][0], "endY": box[1][1], "endZ": box[1][2],
                "maxBlocks": 10000, "compressionMode": False, "includeBlockCounts": False,
            },
        )  # fmt: skip
        blocks = list(data.get("blocks") or [])
        self.blocks.see_area(blocks, box)
        self.containers.see_blocks(blocks)
        self.containers.forget_missing(blocks, box)
        self._last_area = time.monotonic()

    def _block_position(self) -> Pos:
        p = (self._status or {}).get("position") or {}
        return (math.floor(p.get("x", 0)), math.floor(p.get("y", 0)), math.floor(p.get("z", 0)))

    # -- reads in the seed's shapes ---------------------------------------------------------------------

    def _ready(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.error is not None:
            raise self.error
        if self._state is None or self._status is None:
            raise GameUnavailable("无法获取游戏状态: 尚未收到游戏数据")
        return self._state, self._status

    def position(self) -> tuple[float, float, float]:
        _, status = self._ready()
        p = status.get("position")
        if not isinstance(p, dict):
            raise GameUnavailable("无法获取玩家位置信息")
        return (float(p["x"]), float(p["y"]), float(p["z"]))

    def player(self) -> dict[str, Any]:
        _, s = self._ready()
        health, food = s.get("health") or {}, s.get("food") or {}
        experience, position = s.get("experience") or {}, s.get("position") or {}
        return {
            "name": s.get("username"),
            "health": health.get("current"),
            "max_health": health.get("max", 20),
            "food": food.get("current"),
            "max_food": food.get("max", 20),
            "experience": experience.get("points", 0),
            "level": experience.get("level", 0),
            "gamemode": s.get("gamemode"),
            "position": {
                "x": position.get("x"),
                "y": position.get("y"),
                "z": position.get("z"),
                "yaw": s.get("yaw"),
                "pitch": s.get("pitch"),
                "on_ground": s.get("onGround"),
            },
            "equipment": _equipment(s),
            "inventory": self.inventory(),
        }

    def inventory(self) -> dict[str, Any]:
        _, s = self._ready()
        inv = s.get("inventory") or {}
        items = [
            {
                "slot": slot.get("slot"),
                "name": slot.get("name"),
                "display_name": slot.get("name"),
                "count": slot.get("count"),
                "max_stack": 64,
                "damage": 0,
                "max_durability": 0,
            }
            for slot in inv.get("slots") or []
        ]
        return {
            "occupied_slots": inv.get("fullSlotCount", len(items)),
            "total_slots": inv.get("slotCount", 36),
            "empty_slots": inv.get("emptySlotCount", 36 - len(items)),
            "items": items,
        }

    def world(self) -> dict[str, Any]:
        state, status = self._ready()
        time_of_day = int(state.get("timeOfDay") or 0)
        weather = str(state.get("weather") or "").lower()
        center = self.position()
        return {
            "time": {
                "time_of_day": time_of_day,
                "formatted_time": time_name(time_of_day) if "timeOfDay" in state else UNKNOWN,
                "day_count": int(state.get("dayOfWorld") or 0),
            },
            "weather": {
                "weather": weather,
                "formatted_weather": WEATHER_NAMES.get(weather, UNKNOWN),
                "duration": 0,
            },
            "location": {
                "dimension": state.get("dimension") or "overworld",
                "biome": status.get("biome") or "unknown",
                "light_level": 15,
            },
            "nearby_blocks": self.blocks.nearby(center, 5, 20),
            "nearby_entities": self.entities(self._entity_range),
        }

    def entities(self, within: float) -> list[dict[str, Any]]:
        self._ready()
        out = []
        for e in self._entities:
            distance = float(e.get("distance") or 0)
            if distance > within:
                continue
            p = e.get("position") or [None, None, None]
            name = e.get("name") or e.get("username") or e.get("type")
            out.append(
                {
                    "name": name,
                    "display_name": e.get("username") or name,
                    "type": e.get("type"),
                    "distance": distance,
                    "position": {"x": p[0], "y": p[1], "z": p[2]},
                    "health": e.get("health"),
                    "max_health": e.get("maxHealth"),
                }
            )
        return out

    def markers(self) -> list[dict[str, Any]]:
        self._ready()
        return []


_SLOTS = (
    ("helmet", "head"),
    ("chestplate", "chest"),
    ("leggings", "legs"),
    ("boots", "feet"),
    ("offhand", "offhand"),
)


def _item(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    return {
        "name": item.get("name"),
        "count": item.get("count", 1),
        "damage": 0,
        "max_durability": item.get("maxDurability") or 0,
    }


def _equipment(status: dict[str, Any]) -> dict[str, Any]:
    source = status.get("equipment") or {}
    pairs = [("main_hand", status.get("heldItem"))] + [(ours, source.get(theirs)) for ours, theirs in _SLOTS]
    return {slot: item for slot, raw in pairs if (item := _item(raw)) is not None}
