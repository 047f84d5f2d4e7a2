"""Seed 000 sections 4.7-4.10: full-config, game-profile, explore-progress, logs."""

from __future__ import annotations

from tests.integration.oas.conftest import Agent, OasWorld


async def _setup(world: OasWorld) -> tuple[dict[str, object], Agent, dict[str, object]]:
    manager = await world.manager()
    return manager, await world.agent(manager), await world.user(manager, login_id="7")


async def test_full_config_is_in_data_and_at_the_top_level(world: OasWorld) -> None:
    _, agent, user = await _setup(world)
    r = await world.http.get(f"/api/v1/agent/users/{user['id']}/full-config", headers=agent.headers)
    assert r.status_code == 200
    body = r.json()
    keys = {"login_id", "task_config", "rest_config", "lineup_config", "shikigami_config", "explore_progress"}
    assert set(body["data"]) == keys
    assert {k: body[k] for k in keys} == body["data"]
    assert body["data"]["login_id"] == "7"
    signin = body["data"]["task_config"]["signin"]
    assert (signin["enabled"], signin["priority"]) == (True, 50)
    assert "duiyi_jingcai" not in body["data"]["task_config"]  # not in the daily pool


async def test_game_profile_updates_only_known_fields(world: OasWorld) -> None:
    manager, agent, user = await _setup(world)
    url = f"/api/v1/agent/users/{user['id']}/game-profile"
    r = await world.http.patch(
        url, json={"server": "不知火服", "username": "游戏昵称"}, headers=agent.headers
    )
    assert r.status_code == 200 and r.content == b""
    r = await world.http.patch(url, json={"level": 3}, headers=agent.headers)
    assert (r.status_code, r.json()) == (400, {"detail": "没有可更新的字段"})
    [row] = (await world.http.get("/api/v1/manager/users", headers=manager["headers"])).json()["data"][
        "items"
    ]
    assert (row["server"], row["username"], row["archive_status"]) == ("不知火服", "游戏昵称", "normal")


async def test_explore_progress_is_stored_and_served(world: OasWorld) -> None:
    _, agent, user = await _setup(world)
    progress = {"1": True, "2": True, "3": False}
    r = await world.http.put(
        f"/api/v1/agent/users/{user['id']}/explore-progress",
        json={"progress": progress},
        headers=agent.headers,
    )
    assert r.status_code == 200
    r = await world.http.put(
        f"/api/v1/agent/users/{user['id']}/explore-progress",
        json={"progress": {"1": "yes"}},
        headers=agent.headers,
    )
    assert r.status_code == 400
    config = (
        await world.http.get(f"/api/v1/agent/users/{user['id']}/full-config", headers=agent.headers)
    ).json()
    assert config["data"]["explore_progress"] == progress


async def test_logs_are_stored_and_readable_by_the_manager(world: OasWorld) -> None:
    manager, agent, user = await _setup(world)
    logs = [
        {
            "type": "signin",
            "level": "INFO",
            "message": "批次完成: signin",
            "ts": "2025-01-01T12:34:56.789000Z",
        },
        {
            "type": "explore",
            "level": "WARNING",
            "message": "批次失败: explore",
            "ts": "2025-01-01T12:35:10.123000Z",
        },
    ]
    r = await world.http.post(
        f"/api/v1/agent/users/{user['id']}/logs", json={"logs": logs}, headers=agent.headers
    )
    assert r.status_code == 200
    r = await world.http.get(f"/api/v1/manager/users/{user['id']}/logs", headers=manager["headers"])
    items = r.json()["data"]["items"]
    assert [(i["type"], i["level"], i["message"], i["ts"]) for i in items] == [
        ("explore", "WARNING", "批次失败: explore", "2025-01-01T12:35:10.123000Z"),
        ("signin", "INFO", "批次完成: signin", "2025-01-01T12:34:56.789000Z"),
    ]
    assert items[0]["node_id"] == agent.node_id
    bad = await world.http.post(
        f"/api/v1/agent/users/{user['id']}/logs", json={"logs": [{"level": "INFO"}]}, headers=agent.headers
    )
    assert bad.status_code == 400
