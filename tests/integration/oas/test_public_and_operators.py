"""Seed 000 section 5 (health, task templates) and the operator entry points."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from agenthub.core.clock import ManualClock
from agenthub.server.startup import open_runtime
from tests.conftest import make_settings
from tests.integration.oas.conftest import OasWorld
from tests.support.servers import serving
from tests.support.services import require_redis


async def test_health_checks_the_database(world: OasWorld) -> None:
    r = await world.http.get("/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "redis": "disabled", "db": "up"})


@pytest.fixture
async def redis_oas(sqlite_url: str, clock: ManualClock) -> AsyncIterator[str]:
    settings = make_settings(sqlite_url, redis_url=require_redis())
    async with open_runtime(settings, clock=clock) as runtime, serving(runtime, "oas") as listeners:
        yield listeners.urls["oas"]


async def test_health_checks_redis_when_configured(redis_oas: str) -> None:
    async with httpx.AsyncClient(base_url=redis_oas) as http:
        r = await http.get("/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "redis": "up", "db": "up"})


async def test_health_is_503_when_redis_is_down(sqlite_url: str, clock: ManualClock) -> None:
    settings = make_settings(sqlite_url, redis_url="redis://127.0.0.1:1/0")  # nothing listens there
    async with (
        open_runtime(settings, clock=clock) as runtime,
        serving(runtime, "oas") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["oas"]) as http,
    ):
        r = await http.get("/health")
    assert (r.status_code, r.json()) == (503, {"status": "degraded", "redis": "down", "db": "up"})


async def test_task_templates_cover_all_27_types(world: OasWorld) -> None:
    data = (await world.http.get("/api/v1/task-templates")).json()["data"]
    assert set(data["pools"]) == {"daily", "duiyi", "shuaka"}
    assert len(data["templates"]) == 27
    assert data["pools"]["duiyi"] == ["duiyi_jingcai"]
    only = (await world.http.get("/api/v1/task-templates", params={"user_type": "shuaka"})).json()["data"]
    assert (
        list(only["pools"]) == ["shuaka"]
        and "init" in only["templates"]
        and "explore" not in only["templates"]
    )
    r = await world.http.get("/api/v1/task-templates", params={"user_type": "weekly"})
    assert r.status_code == 400 and "detail" in r.json()


async def test_super_admin_manages_managers(world: OasWorld) -> None:
    headers = {"Authorization": f"Bearer {await world.super_token()}"}
    manager = await world.manager("boss1")
    assert {"id", "username", "alias", "expires_at", "is_active"} <= set(manager)
    dup = await world.http.post(
        "/api/v1/super/managers", json={"username": "boss1", "password": "secret123"}, headers=headers
    )
    assert dup.status_code == 409
    r = await world.http.patch(
        f"/api/v1/super/managers/{manager['id']}/lifecycle",
        json={"expires_at": "2020-01-01T00:00:00Z"},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["data"]["is_active"] is False
    r = await world.http.post(
        "/api/v1/manager/auth/login", json={"username": "boss1", "password": "secret123"}
    )
    # As the original: an expired manager logs in (to see itself and redeem a renewal key) and is told so;
    # its token is refused everywhere else.
    assert r.status_code == 200 and r.json()["expired"] is True
    expired_headers = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await world.http.get("/api/v1/manager/users", headers=expired_headers)
    assert (r.status_code, r.json()) == (403, {"detail": "管理员账号未激活或已过期"})
    r = await world.http.patch(
        f"/api/v1/super/managers/{manager['id']}/lifecycle", json={"extend_days": 30}, headers=headers
    )
    assert r.json()["data"]["is_active"] is True
    listed = (await world.http.get("/api/v1/super/managers", headers=headers)).json()["data"]
    assert [m["username"] for m in listed["items"]] == ["boss1"] and listed["total"] == 1
    assert (
        await world.http.post("/api/v1/super/auth/login", json={"username": "root", "password": "wrongpass"})
    ).status_code == 401


async def test_quick_create_users_numbers_login_ids_per_manager(world: OasWorld) -> None:
    manager = await world.manager()
    first = await world.user(manager)
    second = await world.user(manager, user_type="shuaka", username="nick")
    assert (first["login_id"], second["login_id"]) == ("1", "2")
    assert second["user_type"] == "shuaka" and len(first["account_no"]) == 12
    dup = await world.http.post(
        "/api/v1/manager/users/quick-create", json={"login_id": "1"}, headers=manager["headers"]
    )
    assert dup.status_code == 409
    bad = await world.http.post(
        "/api/v1/manager/users/quick-create", json={"user_type": "vip"}, headers=manager["headers"]
    )
    assert bad.status_code == 400
    bad_job = await world.http.post(
        "/api/v1/manager/jobs",
        json={"user_id": first["id"], "task_type": "dance"},
        headers=manager["headers"],
    )
    assert bad_job.status_code == 400
    listed = (await world.http.get("/api/v1/manager/users", headers=manager["headers"])).json()["data"]
    assert listed["total"] == 2


async def test_manager_lists_jobs_by_status_and_user(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    one, two = await world.user(manager), await world.user(manager)
    await world.job(manager, one["id"])
    await world.job(manager, two["id"])
    await world.poll(agent, limit=1)

    def query(**params: object) -> dict[str, object]:
        return {"params": params, "headers": manager["headers"]}

    r = await world.http.get("/api/v1/manager/jobs", **query(status="leased"))  # type: ignore[arg-type]
    assert r.json()["data"]["total"] == 1
    r = await world.http.get("/api/v1/manager/jobs", **query(user_id=two["id"]))  # type: ignore[arg-type]
    assert [j["UserID"] for j in r.json()["data"]["items"]] == [two["id"]]
    r = await world.http.get("/api/v1/manager/jobs", **query(status="bogus"))  # type: ignore[arg-type]
    assert r.status_code == 400
