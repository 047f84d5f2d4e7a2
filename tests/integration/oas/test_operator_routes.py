"""Super admin, manager and user endpoints of the operator side, over a real socket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.integration.oas.conftest import OasWorld, parse_time


async def user_headers(world: OasWorld, account_no: str) -> dict[str, str]:
    r = await world.http.post("/api/v1/user/auth/login", json={"account_no": account_no})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_super_resets_a_manager_password(world: OasWorld) -> None:
    manager = await world.manager()
    admin = {"Authorization": f"Bearer {await world.super_token()}"}
    r = await world.http.patch(
        f"/api/v1/super/managers/{manager['id']}/password", json={"password": "newpass456"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["data"] == {"message": "ok"}
    old = await world.http.post(
        "/api/v1/manager/auth/login", json={"username": "mgr1", "password": "secret123"}
    )
    assert old.status_code == 401 and old.json() == {"detail": "账号或密码错误"}
    new = await world.http.post(
        "/api/v1/manager/auth/login", json={"username": "mgr1", "password": "newpass456"}
    )
    assert new.status_code == 200
    r = await world.http.patch(
        "/api/v1/super/managers/999/password", json={"password": "x" * 8}, headers=admin
    )
    assert r.status_code == 404
    r = await world.http.patch(
        f"/api/v1/super/managers/{manager['id']}/password", json={"password": "x"}, headers=admin
    )
    assert r.status_code == 400


async def test_manager_users_overview_lifecycle_settings_delete(world: OasWorld) -> None:
    manager = await world.manager()
    headers = manager["headers"]
    user = await world.user(manager, duration_days=10)
    await world.agent(manager)
    overview = (await world.http.get("/api/v1/manager/overview", headers=headers)).json()["data"]
    assert overview["users"] == {"total": 1, "active": 1, "expired": 0, "disabled": 0}
    assert overview["nodes"] == {"total": 1, "online": 1}
    assert overview["jobs"] == {}

    r = await world.http.patch(
        f"/api/v1/manager/users/{user['id']}/lifecycle", json={"extend_days": 5}, headers=headers
    )
    assert r.status_code == 200
    assert parse_time(r.json()["data"]["expires_at"]) == world.clock.now() + timedelta(days=15)
    r = await world.http.patch(f"/api/v1/manager/users/{user['id']}/lifecycle", json={}, headers=headers)
    assert r.status_code == 400 and r.json() == {"detail": "没有可更新的字段"}

    r = await world.http.put(
        f"/api/v1/manager/users/{user['id']}/settings",
        json={"notify_config": {"wechat_enabled": True}},
        headers=headers,
    )
    assert r.status_code == 400 and r.json() == {"detail": "启用微信通知需要填写喵提醒码"}
    r = await world.http.put(
        f"/api/v1/manager/users/{user['id']}/settings",
        json={"lineup_config": {"逢魔": {"group": 9, "position": 0}}},
        headers=headers,
    )
    assert r.status_code == 400
    r = await world.http.put(
        f"/api/v1/manager/users/{user['id']}/settings",
        json={"shikigami_config": {"main": "SSR"}, "explore_progress": {"1": True}},
        headers=headers,
    )
    assert r.status_code == 200
    detail: dict[str, Any] = (
        await world.http.get(f"/api/v1/manager/users/{user['id']}", headers=headers)
    ).json()["data"]
    assert detail["shikigami_config"] == {"main": "SSR"} and detail["explore_progress"] == {"1": True}

    r = await world.http.delete(f"/api/v1/manager/users/{user['id']}", headers=headers)
    assert r.status_code == 200
    r = await world.http.get(f"/api/v1/manager/users/{user['id']}", headers=headers)
    assert r.status_code == 404 and r.json() == {"detail": "用户不存在"}


async def test_manager_tasks_pool_and_version(world: OasWorld) -> None:
    manager = await world.manager()
    headers = manager["headers"]
    user = await world.user(manager, user_type="shuaka")
    url = f"/api/v1/manager/users/{user['id']}/tasks"
    view = (await world.http.get(url, headers=headers)).json()["data"]
    assert view["version"] == 0 and "init" in view["task_config"] and "explore" not in view["task_config"]
    r = await world.http.put(url, json={"task_config": {"explore": {"enabled": True}}}, headers=headers)
    assert r.status_code == 400 and r.json() == {"detail": "任务 explore 不在 shuaka 用户的任务池中"}
    r = await world.http.put(
        url, json={"task_config": {"init": {"next_time_rule": "daily_reset"}}, "version": 0}, headers=headers
    )
    assert r.status_code == 200 and r.json()["data"]["version"] == 1
    assert r.json()["data"]["task_config"]["init"]["next_time_rule"] == "daily_reset"
    r = await world.http.put(
        url, json={"task_config": {"init": {"enabled": False}}, "version": 0}, headers=headers
    )
    assert r.status_code == 409


async def test_user_me_endpoints(world: OasWorld) -> None:
    manager = await world.manager()
    user = await world.user(manager)
    headers = await user_headers(world, user["account_no"])
    profile = (await world.http.get("/api/v1/user/me/profile", headers=headers)).json()["data"]
    assert profile["id"] == user["id"]
    r = await world.http.put(
        "/api/v1/user/me/profile",
        json={"rest_config": {"enabled": True, "mode": "custom", "rest_start": "25:00", "rest_duration": 2}},
        headers=headers,
    )
    assert r.status_code == 400
    r = await world.http.put("/api/v1/user/me/profile", json={"server": "不知火服"}, headers=headers)
    assert r.status_code == 200 and r.json()["data"]["server"] == "不知火服"

    r = await world.http.put(
        "/api/v1/user/me/tasks", json={"task_config": {"signin": {"enabled": False}}}, headers=headers
    )
    assert r.status_code == 200 and r.json()["data"]["task_config"]["signin"]["enabled"] is False
    r = await world.http.put(
        "/api/v1/user/me/tasks", json={"task_config": {"duiyi_jingcai": {"enabled": True}}}, headers=headers
    )
    assert r.status_code == 400

    lineup = {"逢魔": {"group": 1, "position": 3}, "御魂": {"group": 3, "position": 2}}
    r = await world.http.put("/api/v1/user/me/lineup", json={"lineup_config": lineup}, headers=headers)
    assert r.status_code == 200
    assert (await world.http.get("/api/v1/user/me/lineup", headers=headers)).json()["data"] == {
        "lineup_config": lineup
    }
    r = await world.http.put(
        "/api/v1/user/me/lineup",
        json={"lineup_config": {"钓鱼": {"group": 1, "position": 1}}},
        headers=headers,
    )
    assert r.status_code == 400

    r = await world.http.put("/api/v1/user/me/notify", json={"wechat_enabled": True}, headers=headers)
    assert r.status_code == 400 and r.json() == {"detail": "启用微信通知需要填写喵提醒码"}
    r = await world.http.put(
        "/api/v1/user/me/notify",
        json={"wechat_enabled": True, "wechat_miao_code": "bad code!"},
        headers=headers,
    )
    assert r.status_code == 400
    r = await world.http.put(
        "/api/v1/user/me/notify", json={"wechat_enabled": True, "wechat_miao_code": "abc123"}, headers=headers
    )
    assert r.json()["data"] == {"notify_config": {"wechat_enabled": True, "wechat_miao_code": "abc123"}}

    assert (await world.http.get("/api/v1/user/me/assets", headers=headers)).json()["data"]["assets"] == {}
    assert (await world.http.get("/api/v1/user/me/logs", headers=headers)).json()["data"]["total"] == 0
    r = await world.http.get("/api/v1/user/me/profile", headers=manager["headers"])
    assert r.status_code == 403
