"""End to end with the real stack: flying-squid (a local Minecraft server), our MCP server driving a
mineflayer bot, and agenthub polling it - REST and WebSockets checked with real game data. One stack per
module (starting it takes a few seconds); the MCP-kill test runs last."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import psutil
import pytest
import pytest_asyncio

from agenthub.protocols.maicraft.console_hooks import describe_load
from agenthub.protocols.maicraft.errors import MaicraftError
from agenthub.protocols.maicraft.settings import BotConfig
from agenthub.protocols.maicraft.spec import SPEC
from agenthub.protocols.maicraft.squid import local_server, node_modules_ready
from agenthub.protocols.maicraft.state import NODE_KIND, MaicraftState
from agenthub.server.runtime import Runtime
from agenthub.server.startup import open_runtime
from tests.conftest import make_settings
from tests.integration.maicraft.conftest import connect, maicraft_settings
from tests.support.databases import SqliteTemplate
from tests.support.servers import serving
from tests.support.services import missing, require_executable

pytestmark = [pytest.mark.node, pytest.mark.asyncio(loop_scope="module")]

TOOLS = {
    "query_game_state", "query_player_status", "query_surroundings", "query_recent_events",
    "query_area_blocks", "query_block", "chat", "move", "mine_block", "place_block", "craft_item",
    "use_chest", "use_furnace",
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Stack:
    def __init__(self, runtime: Runtime, http: httpx.AsyncClient, api: str) -> None:
        self.runtime = runtime
        self.http = http
        self.api = api

    @property
    def state(self) -> MaicraftState:
        return SPEC.state_of(self.runtime)

    async def data(self, path: str, **params: Any) -> Any:
        body = (await self.http.get(path, params=params)).json()
        assert body["success"] is True, body
        return body["data"]

    async def tool(self, name: str, **arguments: Any) -> dict[str, Any]:
        body = (
            await self.http.post("/api/mcp/tools/call", json={"tool_name": name, "arguments": arguments})
        ).json()
        assert body["success"] is True, body
        result: dict[str, Any] = body["data"]["result"]
        assert result["is_error"] is False
        payload = json.loads(result["content"][0]["text"])
        assert payload == result["structured_content"] == result["data"]
        assert payload["ok"] is True, payload
        return payload

    async def position(self) -> tuple[int, int, int]:
        p = (await self.data("/api/environment/player"))["position"]
        return math.floor(p["x"]), math.floor(p["y"]), math.floor(p["z"])


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 30.0, every: float = 0.1
) -> Any:
    """Polls `check` until it returns something truthy without raising (the game moves in its own time)."""
    last: BaseException | None = None
    async with asyncio.timeout(timeout):
        while True:
            try:
                value = await check()
                if value:
                    return value
            except (AssertionError, KeyError, TypeError, MaicraftError) as exc:
                last = exc
            await asyncio.sleep(every)
    raise AssertionError(f"never true: {last}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(sqlite_template: SqliteTemplate) -> AsyncIterator[Stack]:
    require_executable("node", "Node.js")
    if not node_modules_ready():
        missing("the MCP server's npm packages (scripts/bootstrap runs npm ci)")
    mc_port = free_port()
    settings = make_settings(sqlite_template.fresh())
    settings.protocols["maicraft"] = maicraft_settings(
        mcp_enabled=True,
        mc_port=mc_port,
        mc_username="EvilMai",
        poll_interval_seconds=0.2,
        area_poll_interval_seconds=0.5,
        node_seen_interval_seconds=0.5,
        bots=[
            BotConfig(name="second", port=0, mc_username="Second"),
            BotConfig(name="nowhere", port=0, mc_port=free_port(), mc_username="Lost"),
        ],
    )
    stack_up = contextlib.AsyncExitStack()
    await stack_up.enter_async_context(local_server(mc_port))
    runtime = await stack_up.enter_async_context(open_runtime(settings))
    listeners = await stack_up.enter_async_context(serving(runtime, "maicraft"))
    http = await stack_up.enter_async_context(
        httpx.AsyncClient(base_url=listeners.urls["maicraft"], timeout=60)
    )
    try:

        async def player_ready() -> bool:
            return (await http.get("/api/environment/player")).status_code == 200

        await eventually(player_ready, timeout=90)
        yield Stack(runtime, http, listeners.urls["maicraft"])
    finally:
        try:
            async with asyncio.timeout(60):  # a stuck shutdown fails loudly, with every task's stack
                await stack_up.aclose()
        except TimeoutError:
            for task in asyncio.all_tasks():
                task.print_stack(file=sys.stderr)
            raise


async def test_player_inventory_and_world(stack: Stack) -> None:
    player = await stack.data("/api/environment/player")
    assert player["name"] == "EvilMai" and player["health"] == 20 and player["max_health"] == 20
    assert player["food"] == 20 and player["max_food"] == 20 and player["gamemode"] == "creative"
    assert set(player["position"]) == {"x", "y", "z", "yaw", "pitch", "on_ground"}
    assert 0 < player["position"]["y"] < 20  # the flat world's grass is at y=4
    inventory = await stack.data("/api/environment/inventory")
    assert inventory["total_slots"] == 36 and inventory["occupied_slots"] == len(inventory["items"])
    world = await stack.data("/api/environment/world")
    time_of_day = world["time"]["time_of_day"]
    assert 0 <= time_of_day < 24000
    assert world["time"]["formatted_time"] in {"白天", "黄昏", "夜晚"}
    assert world["weather"] == {"weather": "clear", "formatted_weather": "晴朗", "duration": 0}
    assert world["location"]["dimension"] == "overworld" and world["location"]["light_level"] == 15
    assert any(b["name"] == "grass_block" for b in world["nearby_blocks"])
    snapshot = await stack.data("/api/environment/snapshot")
    assert snapshot["player"]["name"] == "EvilMai" and snapshot["markers"] == []
    assert set(snapshot["world"]) >= {"time", "weather", "location"}


async def test_the_other_bot_is_a_nearby_entity(stack: Stack) -> None:
    # flying-squid 1.12 announces players to 1.20 clients with a wrong entity type (mineflayer sees a mob
    # named "allay"), so the other bot is not found by its name. It first walks next to the default bot
    # (both spawn at random within 30 blocks).
    second = stack.state.bots["second"]

    async def walked() -> bool:
        x, _, z = await stack.position()
        result = await second.game.call("move", {"x": x + 2.5, "z": z + 0.5, "distance": 1})
        return bool(json.loads(result.content[0].text)["ok"])  # type: ignore[union-attr]

    await eventually(walked, timeout=60)

    async def seen() -> bool:
        # The only entity in a fresh flat flying-squid world is the other bot; flying-squid's movement
        # updates for it are sometimes late, so its listed position is not compared with where it stands.
        found = await stack.data("/api/environment/nearby/entities", range_limit=64)
        assert found["range"] == 64 and found["count"] == len(found["entities"])
        return any(
            e["distance"] <= 64
            and set(e) == {"name", "display_name", "type", "distance", "position", "health", "max_health"}
            and set(e["position"]) == {"x", "y", "z"}
            for e in found["entities"]
        )

    await eventually(seen)
    near = await stack.data("/api/environment/nearby/entities", range_limit=1)
    assert all(e["distance"] <= 1 for e in near["entities"]) and near["range"] == 1


async def test_tools_list_and_a_move(stack: Stack) -> None:
    tools = await stack.data("/api/mcp/tools")
    names = {tool["name"] for tool in tools["tools"]}
    assert names >= TOOLS and tools["total"] == len(tools["tools"])
    move = next(tool for tool in tools["tools"] if tool["name"] == "move")
    assert move["inputSchema"]["type"] == "object" and "x" in move["inputSchema"]["properties"]
    x, _, z = await stack.position()
    moved = await stack.tool("move", x=x + 4.5, z=z + 0.5)
    assert moved["data"]["to"]["x"] > x + 3

    async def arrived() -> bool:
        return (await stack.position())[0] >= x + 3

    await eventually(arrived)


async def test_a_placed_block_reaches_the_caches(stack: Stack) -> None:
    x, y, z = await stack.position()
    target = (x + 2, y, z + 2)
    placed = await stack.tool("place_block", x=target[0], y=target[1], z=target[2], block="stone")
    assert placed["data"]["block"] == "stone"
    checked = await stack.tool("query_block", x=target[0], y=target[1], z=target[2])
    assert checked["data"]["name"] == "stone"

    async def cached() -> dict[str, Any]:
        block = await stack.data(f"/api/blocks/position/{target[0]}/{target[1]}/{target[2]}")
        assert block["exists"] is True and block["type"] == "stone", block
        return dict(block)

    block = await eventually(cached)
    assert (
        block["position"] == {"x": target[0], "y": target[1], "z": target[2]} and block["update_count"] >= 1
    )
    assert block["last_updated"].endswith("Z")
    found = await stack.data("/api/blocks/search", name="ston")
    assert found["search_term"] == "ston" and any(b["position"]["x"] == target[0] for b in found["blocks"])
    region = await stack.data("/api/blocks/region", x=target[0], z=target[2], radius=1)
    assert region["center"] == {"x": target[0], "z": target[2]} and region["radius"] == 1
    assert region["blocks"][0]["distance"] == 0.0
    types = await stack.data("/api/blocks/types")
    assert {"stone", "grass_block"} <= {t["type"] for t in types["types"]}
    stats = await stack.data("/api/blocks/stats")
    assert stats["total_blocks"] >= stats["cached_blocks"] > 0 and stats["memory_usage_mb"] > 0


async def test_chests_in_the_container_cache(stack: Stack) -> None:
    x, y, z = await stack.position()
    chest = (x - 2, y, z + 1)
    await stack.tool("place_block", x=chest[0], y=chest[1], z=chest[2], block="chest")

    async def listed() -> bool:
        found = await stack.data("/api/containers", type="chest", range=16)
        return any(
            c["position"] == {"x": chest[0], "y": chest[1], "z": chest[2]} for c in found["containers"]
        )

    await eventually(listed)
    verified = await stack.data(f"/api/containers/verify/{chest[0]}/{chest[1]}/{chest[2]}")
    assert verified["exists"] is True and verified["type"] == "chest"
    view = await stack.tool("use_chest", x=chest[0], y=chest[1], z=chest[2], action="view")
    assert view["data"]["contents"] == {}
    stats = await stack.data("/api/containers/stats")
    assert stats["chest_count"] >= 1 and stats["furnace_count"] == 0
    await stack.tool("mine_block", x=chest[0], y=chest[1], z=chest[2])
    gone = await stack.data(f"/api/containers/verify/{chest[0]}/{chest[1]}/{chest[2]}")
    assert gone["exists"] is False
    cleared = (await stack.http.delete("/api/containers/invalid")).json()["data"]
    assert cleared["removed_count"] >= 1


async def test_chat_shows_in_recent_events_and_logs(stack: Stack) -> None:
    await stack.tool("chat", message="你好, 来自测试")

    async def in_events() -> bool:
        events = await stack.tool("query_recent_events")
        return any(e["type"] == "chat" and e["message"] == "你好, 来自测试" for e in events["data"]["events"])

    await eventually(in_events)

    async def in_logs() -> bool:
        logs = await stack.data("/api/logs/recent", module="GameEvents", message_contains="来自测试")
        return bool(logs["logs"])

    await eventually(in_logs)


async def test_game_sockets_push_real_state(stack: Stack) -> None:
    for kind, check in (
        ("player", lambda d: d["name"] == "EvilMai" and d["health"] == 20),
        ("world", lambda d: 0 <= d["time"]["time_of_day"] < 24000),
        ("marker", lambda d: d == []),
    ):
        ws, sock = await connect(stack.api, f"/ws/game/{kind}")
        async with ws:
            await sock.send({"type": "subscribe", "update_interval": 100})
            ack = await sock.recv()
            assert ack["type"] == "subscribed" and ack["message"] == f"已订阅 {kind} 数据"
            assert ack["subscription"] == {"type": kind, "update_interval": 100}
            stamps = []
            for _ in range(3):
                update = await sock.recv()
                assert update["type"] == f"{kind}_update" and check(update["data"]), update
                stamps.append(update["timestamp"])
            assert stamps == sorted(stamps)
            await sock.send({"type": "unsubscribe"})
            assert (await sock.expect("unsubscribed"))["type"] == "unsubscribed"


async def test_each_bot_has_its_port_and_node(stack: Stack) -> None:
    second = stack.state.bots["second"]
    assert second.url is not None and second.url != stack.api
    async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:

        async def named() -> bool:
            body = (await client.get("/api/environment/player")).json()
            return bool(body["success"] and body["data"]["name"] == "Second")

        await eventually(named)
        # Its own database rows: a location of the second bot is not the default bot's.
        made = await client.post(
            "/api/locations", json={"name": "second-home", "info": "", "position": {"x": 0, "y": 0, "z": 0}}
        )
        assert made.json()["success"] is True
    assert (await stack.http.get("/api/locations/second-home")).status_code == 404
    nodes = {node.node_id: node for node in await stack.runtime.engine.nodes(NODE_KIND)}
    assert stack.runtime.engine.is_online(nodes["default"]) and stack.runtime.engine.is_online(
        nodes["second"]
    )


async def test_the_console_shows_each_bots_health_and_position(stack: Stack) -> None:
    await eventually(lambda: _has_player(stack))
    nodes = await stack.runtime.engine.nodes(NODE_KIND)
    loads = await describe_load(stack.state, nodes)
    player = stack.state.default.game.player()
    assert loads["default"].text.startswith(f"health {player['health']}/{player['max_health']}")
    assert loads["default"].data is not None and loads["default"].data["position"]["y"] is not None


async def _has_player(stack: Stack) -> bool:
    body = (await stack.http.get("/api/environment/player")).json()
    return bool(body["success"])


async def test_no_minecraft_server_is_a_game_state_error(stack: Stack) -> None:
    lost = stack.state.bots["nowhere"]
    assert lost.url is not None
    async with httpx.AsyncClient(base_url=lost.url, timeout=30) as client:

        async def refused() -> bool:
            response = await client.get("/api/environment/player")
            body = response.json()
            return response.status_code == 503 and body["error_code"] == "GAME_STATE_ERROR"

        await eventually(refused)
        body = (await client.get("/api/environment/world")).json()
        assert "无法获取游戏状态" in body["message"]
        tools = (await client.get("/api/mcp/tools")).json()  # the MCP server itself answers
        assert tools["success"] is True


async def test_mcp_server_killed_and_restarted(stack: Stack) -> None:
    def mcp_pids() -> list[int]:
        me = psutil.Process()
        return [
            child.pid
            for child in me.children(recursive=True)
            if any(part.endswith("server.mjs") for part in child.cmdline()) and "EvilMai" in child.cmdline()
        ]

    [old] = mcp_pids()
    link = stack.state.default.link
    assert link is not None
    restarts = link.restarts
    psutil.Process(old).kill()

    async def noticed() -> bool:
        response = await stack.http.get("/api/environment/player")
        return response.status_code == 503 and response.json()["error_code"] == "CONNECTION_ERROR"

    await eventually(noticed, timeout=30, every=0.02)

    async def back() -> bool:
        return (await stack.http.get("/api/environment/player")).status_code == 200

    await eventually(back, timeout=60)
    assert link.restarts > restarts
    [new] = mcp_pids()
    assert new != old
    assert (await stack.data("/api/environment/player"))["name"] == "EvilMai"
