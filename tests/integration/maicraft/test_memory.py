"""Without a game: the envelope, locations, to-do tasks, token usage and logs on SQLite and PostgreSQL,
and the game endpoints answering CONNECTION_ERROR when there is no MCP server at all."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from agenthub.protocols.maicraft.spec import SPEC
from agenthub.sdk.maicraft import TokenUsageClient
from agenthub.server.runtime import Runtime
from tests.integration.maicraft.conftest import connect


def assert_ok(body: dict[str, Any]) -> Any:
    assert body["code"] == "SUCCESS" and body["success"] is True, body
    assert body["message"] == "操作成功"
    assert isinstance(body["timestamp"], int) and body["timestamp"] > 1_700_000_000_000
    return body["data"]


def assert_error(response: httpx.Response, status: int, error_code: str) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.status_code == status, body
    assert body["code"] == "ERROR" and body["success"] is False and body["data"] is None
    assert body["error_code"] == error_code, body
    assert isinstance(body["timestamp"], int)
    return body


async def test_health_and_cors(http: httpx.AsyncClient) -> None:
    response = await http.get("/health", headers={"Origin": "http://ui.example"})
    assert response.json() == {"status": "healthy", "service": "MaicraftAgent API", "version": "1.0.0"}
    assert response.headers["access-control-allow-origin"] == "*"


async def test_locations(http: httpx.AsyncClient) -> None:
    camp = {"name": "camp", "info": "初始营地", "position": {"x": 11.7, "y": 65.2, "z": -8.5}}
    first = assert_ok((await http.post("/api/locations", json=camp)).json())
    assert first["name"] == "camp" and first["position"] == {"x": 11, "y": 65, "z": -9}
    assert first["visit_count"] == 0 and first["info"] == "初始营地"
    second = assert_ok((await http.post("/api/locations", json=camp)).json())
    third = assert_ok((await http.post("/api/locations", json=camp)).json())
    assert (second["name"], third["name"]) == ("camp~1", "camp~2")
    listed = assert_ok((await http.get("/api/locations")).json())
    assert listed["total"] == 3 and [loc["name"] for loc in listed["locations"]] == [
        "camp",
        "camp~1",
        "camp~2",
    ]
    assert assert_ok((await http.get("/api/locations/camp~1")).json())["position"] == {
        "x": 11,
        "y": 65,
        "z": -9,
    }
    updated = assert_ok((await http.put("/api/locations/camp", json={"info": "新营地"})).json())
    assert updated["info"] == "新营地" and updated["position"] == {"x": 11, "y": 65, "z": -9}
    moved = await http.put("/api/locations/camp", json={"position": {"x": 1, "y": 2, "z": 3}})
    assert assert_error(moved, 400, "VALIDATION_ERROR")["message"] == "位置坐标更新暂不支持"
    deleted = assert_ok((await http.delete("/api/locations/camp~2")).json())
    assert deleted["name"] == "camp~2"
    missing = await http.get("/api/locations/camp~2")
    assert assert_error(missing, 404, "RESOURCE_NOT_FOUND")["message"] == "位置点不存在"
    stats = assert_ok((await http.get("/api/locations/stats")).json())
    assert stats["total_locations"] == 2 and stats["type_distribution"] == {"camp": 2}
    assert_error(await http.post("/api/locations", json={"name": "x"}), 400, "VALIDATION_ERROR")
    assert_error(await http.post("/api/locations", content=b"{bad"), 400, "VALIDATION_ERROR")


async def test_locations_survive_a_restart(runtime: Runtime) -> None:
    from tests.support.servers import serving

    async with (
        serving(runtime, "maicraft") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["maicraft"]) as c,
    ):
        body = {"name": "mine", "info": "矿洞", "position": {"x": 1, "y": 2, "z": 3}}
        assert_ok((await c.post("/api/locations", json=body)).json())
    async with (
        serving(runtime, "maicraft") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["maicraft"]) as c,
    ):
        assert assert_ok((await c.get("/api/locations/mine")).json())["info"] == "矿洞"


async def test_unknown_route_and_method(http: httpx.AsyncClient) -> None:
    assert_error(await http.get("/api/nothing"), 404, "RESOURCE_NOT_FOUND")
    assert_error(await http.patch("/api/locations"), 405, "INVALID_PARAMETER")


async def test_game_endpoints_without_an_mcp_server(http: httpx.AsyncClient, api: str) -> None:
    for path in (
        "/api/environment/snapshot",
        "/api/environment/player",
        "/api/environment/inventory",
        "/api/environment/world",
        "/api/environment/nearby/entities",
        "/api/containers",
        "/api/containers/verify/1/2/3",
        "/api/mcp/tools",
    ):
        body = assert_error(await http.get(path), 503, "CONNECTION_ERROR")
        assert "MCP客户端未连接" in body["message"], path
    call = await http.post("/api/mcp/tools/call", json={"tool_name": "chat", "arguments": {"message": "hi"}})
    assert_error(call, 503, "CONNECTION_ERROR")
    empty = await http.post("/api/mcp/tools/call", json={"tool_name": "", "arguments": {}})
    assert "工具名称不能为空" in assert_error(empty, 400, "VALIDATION_ERROR")["message"]
    assert_error(await http.get("/api/environment/nearby/entities?range_limit=65"), 400, "VALIDATION_ERROR")
    # Caches answer from memory: empty, never an error.
    assert assert_ok((await http.get("/api/blocks/stats")).json())["cached_blocks"] == 0
    assert assert_ok((await http.get("/api/blocks/types")).json()) == {"types": [], "total_types": 0}
    uncached = assert_ok((await http.get("/api/blocks/position/1/2/3")).json())
    assert uncached["exists"] is False and uncached["message"] == "该位置的方块信息未被缓存"
    assert assert_ok((await http.get("/api/containers/stats")).json())["total_containers"] == 0
    assert (
        assert_ok((await http.get("/api/blocks/search", params={"search_term": "ston"})).json())["total"] == 0
    )
    assert_error(await http.get("/api/blocks/search"), 400, "VALIDATION_ERROR")
    assert_error(await http.get("/api/blocks/region", params={"x": 1}), 400, "VALIDATION_ERROR")
    # The game sockets say so too, after the subscription ack.
    ws, sock = await connect(api, "/ws/game/player")
    async with ws:
        await sock.send({"type": "subscribe", "update_interval": 500})
        assert (await sock.recv())["type"] == "subscribed"
        error = await sock.recv()
        assert error["type"] == "error" and error["errorCode"] == "CONNECTION_ERROR"


async def test_tasks_socket(api: str, runtime: Runtime) -> None:
    ws_a, a = await connect(api, "/ws/tasks")
    ws_b, b = await connect(api, "/ws/tasks")
    async with ws_a, ws_b:
        for sock in (a, b):
            await sock.send({"type": "subscribe", "update_interval": 5000})
            ack = await sock.recv()
            assert ack["type"] == "subscribed" and ack["message"] == "已订阅任务数据更新"
            assert ack["subscription"] == {"type": "tasks", "update_interval": 5000}
            assert (await sock.recv())["type"] == "tasks_update"
        await a.send({"type": "add_task", "details": "采集木材", "done_criteria": "收集到10个原木"})
        added = await a.recv()
        assert added["type"] == "task_added" and added["message"] == "任务添加成功"
        assert added["data"] == {
            "task_id": "1",
            "details": "采集木材",
            "done_criteria": "收集到10个原木",
            "progress": "尚未开始",
            "done": False,
        }
        pushed = await b.recv()
        assert pushed["type"] == "tasks_update" and pushed["data"]["total"] == 1
        assert pushed["data"]["goal"] == "生存挑战" and pushed["data"]["is_done"] is False
        await a.send({"type": "add_task", "details": "建房子", "done_criteria": "有屋顶"})
        assert (await a.recv())["data"]["task_id"] == "2"
        await b.recv()
        await a.send({"type": "update_task", "task_id": "1", "progress": "已收集5个原木"})
        assert (await a.recv()) | {"timestamp": 0} == {
            "type": "task_updated",
            "message": "任务更新成功",
            "data": {"task_id": "1", "progress": "已收集5个原木"},
            "timestamp": 0,
        }
        assert (await b.recv())["data"]["tasks"][0]["progress"] == "已收集5个原木"
        await b.send({"type": "delete_task", "task_id": "1"})
        assert (await b.recv())["type"] == "task_deleted"
        assert (await a.recv())["data"]["total"] == 1
        await a.send({"type": "add_task", "details": "钓鱼", "done_criteria": "一条鱼"})
        assert (await a.recv())["data"]["task_id"] == "1"  # the smallest unused id
        await b.recv()
        for tid in ("1", "2"):
            await a.send({"type": "mark_done", "task_id": tid})
            marked = await a.recv()
            assert marked["type"] == "task_marked_done" and marked["message"] == "任务标记完成成功"
            await b.recv()
        await b.send({"type": "get_tasks"})
        listed = await b.recv()
        assert listed["type"] == "tasks_list" and listed["message"] == "任务列表获取成功"
        assert listed["data"]["is_done"] is True and listed["data"]["completed"] == 2
        assert {t["progress"] for t in listed["data"]["tasks"]} == {"已完成"}
        # Errors keep the socket open.
        await a.send({"type": "add_task", "details": "", "done_criteria": "x"})
        error = await a.recv()
        assert error["errorCode"] == "VALIDATION_ERROR" and error["message"] == "任务详情不能为空"
        await a.send({"type": "mark_done", "task_id": ""})
        assert (await a.recv())["message"] == "任务ID不能为空"
        await a.send({"type": "update_task", "task_id": "99", "progress": "x"})
        failed = await a.recv()
        assert failed["errorCode"] == "OPERATION_FAILED" and failed["message"].startswith("更新任务失败")
        await a.send({"type": "subscribe", "update_interval": 999})
        assert (await a.recv())["errorCode"] == "INVALID_INTERVAL"
        # The sender never gets its own tasks_update.
        await a.send({"type": "unsubscribe"})
        unsub = await a.recv()
        assert unsub["type"] == "unsubscribed" and unsub["message"] == "已取消订阅任务数据"
    # Past five tasks, done ones go oldest first.
    state = SPEC.state_of(runtime).default
    for n in range(4):
        await state.add_task(f"task {n}", "done")
    tasks = await state.repo.tasks()
    assert len(tasks) == 5 and [t.details for t in tasks if t.done] == ["钓鱼"]  # 建房子 was older


async def test_token_usage(api: str, http: httpx.AsyncClient) -> None:
    ws_all, everything = await connect(api, "/ws/token-usage")
    ws_other, other = await connect(api, "/ws/token-usage")
    async with ws_all, ws_other:
        await everything.send({"type": "subscribe", "update_interval": 0, "model_filter": None})
        ack = await everything.recv()
        assert ack["type"] == "subscribed" and ack["subscription"]["model_filter"] is None
        await other.send({"type": "subscribe", "update_interval": 0, "model_filter": "gpt"})
        await other.recv()
        async with TokenUsageClient(api) as usage:
            first = await usage.record(
                "qwen3-next-80b-a3b-instruct", prompt_tokens=1_000_000, completion_tokens=500_000
            )
        assert first["total_calls"] == 1 and first["total_cost"] == pytest.approx(3.0)
        body = await http.post(
            "/api/token-usage/record",
            json={"model_name": "qwen3-next-80b-a3b-instruct", "prompt_tokens": 10, "completion_tokens": 5},
        )
        totals = assert_ok(body.json())
        assert totals["total_tokens"] == 1_500_015 and totals["total_calls"] == 2
        assert totals["first_call_time"] <= totals["last_call_time"] == totals["last_updated"]
        pushed = await everything.expect("token_usage_update")
        assert pushed["data"]["model_name"] == "qwen3-next-80b-a3b-instruct"
        assert pushed["data"]["usage"]["total_calls"] == 1
        assert pushed["data"]["summary"]["model_count"] == 1
        second = await everything.expect("token_usage_update")
        assert second["data"]["summary"]["total_tokens"] == 1_500_015
        await http.post(
            "/api/token-usage/record",
            json={"model_name": "gpt-4o", "prompt_tokens": 1, "completion_tokens": 1},
        )
        only_gpt = await other.expect("token_usage_update")
        assert only_gpt["data"]["model_name"] == "gpt-4o" and only_gpt["data"]["usage"]["total_cost"] == 0
        await everything.send({"type": "get_usage"})
        models = await everything.expect("token_usage_update")
        while "models" not in models["data"]:
            models = await everything.expect("token_usage_update")
        assert set(models["data"]["models"]) == {"qwen3-next-80b-a3b-instruct", "gpt-4o"}
        await everything.send({"type": "subscribe", "update_interval": -1})
        assert (await everything.expect("error"))["errorCode"] == "INVALID_INTERVAL"
    bad = await http.post(
        "/api/token-usage/record", json={"model_name": "m", "prompt_tokens": -1, "completion_tokens": 0}
    )
    assert_error(bad, 400, "VALIDATION_ERROR")


async def test_logs(api: str, http: httpx.AsyncClient) -> None:
    from agenthub.protocols.maicraft.logring import logger

    assert assert_ok((await http.get("/api/logs/level")).json())["available_levels"] == [
        "TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL",
    ]  # fmt: skip
    ws, sock = await connect(api, "/ws/logs")
    async with ws:
        await sock.send({"type": "subscribe", "levels": ["INFO", "WARNING"], "modules": ["MCPClient"]})
        ack = await sock.recv()
        assert ack["type"] == "subscribed" and ack["message"] == "日志订阅已设置"
        logger("GamePoller").info("not for this subscriber")
        logger("MCPClient").debug("below the level")
        logger("MCPClient").info("MCP客户端已连接")
        pushed = await sock.recv()
        assert (
            pushed["type"] == "log"
            and pushed["module"] == "MCPClient"
            and pushed["message"] == "MCP客户端已连接"
        )
        assert pushed["level"] == "INFO" and pushed["file"] and pushed["line"] > 0
        assert_ok((await http.post("/api/logs/level", json={"level": "DEBUG"})).json())
        assert (await sock.expect("level_changed"))["new_level"] == "DEBUG"
        assert assert_ok((await http.get("/api/logs/config")).json())["level"] == "DEBUG"
        logger("MCPClient").debug("now visible in the ring")
        assert_error(await http.post("/api/logs/level", json={"level": "LOUD"}), 400, "VALIDATION_ERROR")
    recent = assert_ok(
        (await http.get("/api/logs/recent", params={"module": "MCPClient", "limit": 5})).json()
    )
    messages = [entry["message"] for entry in recent["logs"]]
    assert "MCP客户端已连接" in messages and "now visible in the ring" in messages
    assert "below the level" not in messages
    only = assert_ok(
        (await http.get("/api/logs/recent", params={"message_contains": "ring", "level": "debug"})).json()
    )
    assert [e["message"] for e in only["logs"]] == ["now visible in the ring"]
    stats = assert_ok((await http.get("/api/logs/stats")).json())
    assert (
        stats["total_logs"] >= 3
        and stats["module_counts"]["MCPClient"] >= 2
        and stats["max_capacity"] == 1000
    )
    cleared = assert_ok((await http.post("/api/logs/clear")).json())
    assert cleared["cleared_count"] == stats["total_logs"] or cleared["cleared_count"] >= stats["total_logs"]
    assert_ok((await http.post("/api/logs/level", json={"level": "INFO"})).json())


SOCKETS = ["/ws/logs", "/ws/game/player", "/ws/game/world", "/ws/game/marker", "/ws/tasks", "/ws/token-usage"]


async def test_every_socket_speaks_the_protocol(api: str) -> None:
    for path in SOCKETS:
        ws, sock = await connect(api, path)
        async with ws:
            await sock.send({"type": "ping", "timestamp": 1704067200000})
            pong = await sock.recv()
            assert pong["type"] == "pong" and pong["timestamp"] == 1704067200000, path
            await sock.send("{not json")
            bad = await sock.recv()
            assert bad["type"] == "error" and bad["errorCode"] == "INVALID_JSON", path
            assert isinstance(bad["timestamp"], int)
            await sock.send({"type": "dance"})
            assert (await sock.recv())["errorCode"] == "UNKNOWN_MESSAGE_TYPE", path
            await sock.send("[1, 2]")
            assert (await sock.recv())["errorCode"] == "INVALID_JSON", path
            if path.startswith("/ws/game"):
                await sock.send({"type": "subscribe", "update_interval": 0})  # what the UI sends for markers
                assert (await sock.recv())["errorCode"] == "INVALID_INTERVAL"
            await sock.send({"type": "ping", "timestamp": 5})  # under a second after the last: no answer
            await sock.send({"type": "dance"})
            assert (await sock.recv())["errorCode"] == "UNKNOWN_MESSAGE_TYPE", path


async def test_a_hundred_task_subscribers(api: str) -> None:
    clients = await asyncio.gather(*(connect(api, "/ws/tasks") for _ in range(100)))
    try:
        for _, sock in clients:
            await sock.send({"type": "subscribe", "update_interval": 1000})
        for _, sock in clients:
            await sock.expect("tasks_update")
        sender = clients[0][1]
        await sender.send({"type": "add_task", "details": "挖矿", "done_criteria": "10个铁"})
        assert (await sender.recv())["type"] == "task_added"
        pushes = await asyncio.gather(*(sock.expect("tasks_update") for _, sock in clients[1:]))
        assert all(p["data"]["tasks"][0]["details"] == "挖矿" for p in pushes)
    finally:
        await asyncio.gather(*(ws.close() for ws, _ in clients))


async def test_silent_clients_are_closed(runtime: Runtime) -> None:
    import websockets

    from tests.integration.maicraft.conftest import maicraft_settings
    from tests.support.servers import serving

    runtime.settings.protocols["maicraft"] = maicraft_settings(
        ws_timeout_seconds=0.3, ws_heartbeat_seconds=0.1
    )
    async with serving(runtime, "maicraft") as listeners:
        ws, sock = await connect(listeners.urls["maicraft"], "/ws/tasks")
        ping = await sock.recv(skip_pings=False)
        assert ping["type"] == "ping" and ping["message"]
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await sock.recv(timeout=5)
        assert ws.close_code == 1000


async def test_access_token(runtime: Runtime) -> None:
    import websockets

    from tests.integration.maicraft.conftest import maicraft_settings, ws_url
    from tests.support.servers import serving

    runtime.settings.protocols["maicraft"] = maicraft_settings(access_token="s3cret")
    async with (
        serving(runtime, "maicraft") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["maicraft"]) as c,
    ):
        assert (await c.get("/health")).status_code == 200
        assert_error(await c.get("/api/locations"), 401, "VALIDATION_ERROR")
        assert (await c.get("/api/locations", headers={"Authorization": "Bearer s3cret"})).status_code == 200
        assert (await c.get("/api/locations?token=s3cret")).status_code == 200
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(ws_url(listeners.urls["maicraft"], "/ws/tasks"))
        ws, _ = await connect(listeners.urls["maicraft"], "/ws/tasks?token=s3cret")
        await ws.close()


async def test_an_mcp_server_that_cannot_start(runtime: Runtime) -> None:
    from tests.integration.maicraft.conftest import maicraft_settings
    from tests.support.servers import serving

    runtime.settings.protocols["maicraft"] = maicraft_settings(
        mcp_enabled=True, mcp_command="agenthub-no-such-mcp-server --stdio", mcp_restart_max_seconds=1
    )
    async with (
        serving(runtime, "maicraft") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["maicraft"]) as c,
    ):
        link = SPEC.state_of(runtime).default.link
        assert link is not None
        async with asyncio.timeout(20):
            while link.restarts < 2:
                await link.stopped.wait()
                link.stopped.clear()
        body = assert_error(await c.get("/api/environment/player"), 503, "CONNECTION_ERROR")
        assert body["message"].startswith("MCP_NOT_CONNECTED: MCP客户端未连接 (")
        assert_error(await c.get("/api/mcp/tools"), 503, "CONNECTION_ERROR")
        logs = assert_ok((await c.get("/api/logs/recent", params={"module": "MCPClient"})).json())
        assert any("agenthub-no-such-mcp-server" in entry["message"] for entry in logs["logs"])


async def test_concurrent_usage_records_add_up(http: httpx.AsyncClient) -> None:
    body = {"model_name": "qwen3-next-80b-a3b-instruct", "prompt_tokens": 1000, "completion_tokens": 100}
    answers = await asyncio.gather(*(http.post("/api/token-usage/record", json=body) for _ in range(20)))
    assert all(a.status_code == 200 for a in answers)
    usage = assert_ok((await http.get("/api/token-usage")).json())["models"]["qwen3-next-80b-a3b-instruct"]
    assert usage["total_calls"] == 20 and usage["total_tokens"] == 22_000
    assert usage["total_cost"] == pytest.approx(20 * (1000 / 1e6 * 1.0 + 100 / 1e6 * 4.0))
