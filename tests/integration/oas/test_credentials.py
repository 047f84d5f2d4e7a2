"""Issue 9: credentials follow the account on the next request. A manager the super admin expires, or whose
password is reset, loses its own and its agents' tokens; a user its manager disables loses its token; and a
change made on one replica reaches the cached view of another through the bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx

from agenthub.core.clock import ManualClock
from agenthub.protocols.oas.settings import OasSettings
from agenthub.protocols.oas.spec import SPEC
from agenthub.server.runtime import Runtime
from agenthub.server.startup import open_runtime
from tests.conftest import make_settings
from tests.integration.oas.conftest import OasWorld
from tests.support.servers import serving
from tests.support.services import require_redis

INACTIVE = {"detail": "管理员账号未激活或已过期"}
REVOKED = {"detail": "认证令牌已失效"}


async def super_headers(world: OasWorld) -> dict[str, str]:
    return {"Authorization": f"Bearer {await world.super_token()}"}


async def manager_and_agent_calls(
    world: OasWorld, manager: dict[str, Any], agent: Any, user_id: int, job_id: int
) -> list[tuple[str, httpx.Response]]:
    http = world.http
    return [
        (
            "quick-create",
            await http.post("/api/v1/manager/users/quick-create", json={}, headers=manager["headers"]),
        ),
        (
            "create job",
            await http.post(
                "/api/v1/manager/jobs",
                json={"user_id": user_id, "task_type": "signin"},
                headers=manager["headers"],
            ),
        ),
        ("full-config", await http.get(f"/api/v1/agent/users/{user_id}/full-config", headers=agent.headers)),
        ("start", await world.report(agent, job_id, "start")),
    ]


async def leased_job(world: OasWorld) -> tuple[dict[str, Any], Any, int, int]:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    job = await world.job(manager, user["id"])
    await world.poll(agent)
    # Warm every cache the calls below go through, so a stale cache would show.
    for _name, r in await manager_and_agent_calls(world, manager, agent, user["id"], job["ID"]):
        assert r.status_code < 300, r.text
    job = await world.job(manager, user["id"])
    await world.poll(agent)
    return manager, agent, user["id"], job["ID"]


async def test_a_manager_expired_by_the_super_admin_loses_its_tokens_at_once(world: OasWorld) -> None:
    manager, agent, user_id, job_id = await leased_job(world)
    r = await world.http.patch(
        f"/api/v1/super/managers/{manager['id']}/lifecycle",
        json={"expires_at": (world.clock.now() - timedelta(days=1)).isoformat()},
        headers=await super_headers(world),
    )
    assert r.status_code == 200, r.text
    for name, r in await manager_and_agent_calls(world, manager, agent, user_id, job_id):
        assert (r.status_code, r.json()) == (403, INACTIVE), name


async def test_a_password_reset_voids_the_managers_and_its_agents_tokens(world: OasWorld) -> None:
    manager, agent, user_id, job_id = await leased_job(world)
    r = await world.http.patch(
        f"/api/v1/super/managers/{manager['id']}/password",
        json={"password": "brand-new-pass"},
        headers=await super_headers(world),
    )
    assert r.status_code == 200, r.text
    for name, r in await manager_and_agent_calls(world, manager, agent, user_id, job_id):
        assert (r.status_code, r.json()) == (401, REVOKED), name
    # The new password gives tokens that work.
    fresh = await world.agent(manager, password="brand-new-pass")
    r = await world.report(fresh, job_id, "start")
    assert r.status_code == 200, r.text


async def test_a_user_disabled_by_its_manager_loses_its_token(world: OasWorld) -> None:
    manager = await world.manager()
    user = await world.user(manager)
    login = await world.http.post("/api/v1/user/auth/login", json={"account_no": user["account_no"]})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    r = await world.http.put("/api/v1/user/me/profile", json={"server": "s1"}, headers=headers)
    assert r.status_code == 200, r.text
    r = await world.http.patch(
        f"/api/v1/manager/users/{user['id']}/lifecycle",
        json={"status": "disabled"},
        headers=manager["headers"],
    )
    assert r.status_code == 200, r.text
    r = await world.http.put("/api/v1/user/me/profile", json={"server": "s1"}, headers=headers)
    assert (r.status_code, r.json()) == (403, {"detail": "用户账号未激活"})
    r = await world.http.get("/api/v1/user/scan/status", headers=headers)
    assert r.status_code == 403
    # Enabled again, the same token works again.
    r = await world.http.patch(
        f"/api/v1/manager/users/{user['id']}/lifecycle", json={"status": "active"}, headers=manager["headers"]
    )
    r = await world.http.put("/api/v1/user/me/profile", json={"server": "s1"}, headers=headers)
    assert r.status_code == 200, r.text


async def test_a_deleted_user_loses_its_token(world: OasWorld) -> None:
    manager = await world.manager()
    user = await world.user(manager)
    login = await world.http.post("/api/v1/user/auth/login", json={"account_no": user["account_no"]})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert (await world.http.get("/api/v1/user/me/profile", headers=headers)).status_code == 200
    r = await world.http.delete(f"/api/v1/manager/users/{user['id']}", headers=manager["headers"])
    assert r.status_code == 200
    r = await world.http.get("/api/v1/user/me/profile", headers=headers)
    assert (r.status_code, r.json()) == (401, {"detail": "认证令牌无效"})


# -- two replicas on one database, behind Redis ---------------------------------------------------------


@asynccontextmanager
async def replica(database_url: str, clock: ManualClock) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    settings = make_settings(database_url, redis_url=require_redis())
    # Cached views never age out here: only the bus can tell this replica that an account changed.
    settings.protocols["oas"] = OasSettings(
        super_username="root",
        super_password="rootpass123",
        scheduler_enabled=False,
        account_cache_seconds=3600,
    )
    async with AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(open_runtime(settings, clock=clock))
        listeners = await stack.enter_async_context(serving(runtime, "oas"))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=listeners.urls["oas"], timeout=30))
        await asyncio.wait_for(SPEC.state_of(runtime).accounts.listening.wait(), 30)
        yield runtime, http


async def until(check: Callable[[], Awaitable[bool]], *, timeout: float = 10.0) -> None:
    """Waits for a change that travels through Redis to another replica (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the other replica never saw the change"
        await asyncio.sleep(0.01)


async def test_a_change_on_one_replica_reaches_the_others_cache(
    database_url: str, clock: ManualClock
) -> None:
    async with replica(database_url, clock) as (_a, http_a), replica(database_url, clock) as (_b, http_b):
        world_a, world_b = OasWorld(http_a, clock), OasWorld(http_b, clock)
        manager = await world_a.manager()
        user = await world_a.user(manager)
        agent = await world_b.agent(manager)
        config = f"/api/v1/agent/users/{user['id']}/full-config"
        login = await http_b.post("/api/v1/user/auth/login", json={"account_no": user["account_no"]})
        user_headers = {"Authorization": f"Bearer {login.json()['token']}"}
        # Replica B caches both accounts.
        assert (await http_b.get(config, headers=agent.headers)).status_code == 200
        assert (await http_b.get("/api/v1/user/me/profile", headers=user_headers)).status_code == 200

        r = await http_a.patch(
            f"/api/v1/manager/users/{user['id']}/lifecycle",
            json={"status": "disabled"},
            headers=manager["headers"],
        )
        assert r.status_code == 200

        async def user_refused() -> bool:
            r = await http_b.get("/api/v1/user/me/profile", headers=user_headers)
            return r.status_code == 403

        await until(user_refused)

        r = await http_a.patch(
            f"/api/v1/super/managers/{manager['id']}/password",
            json={"password": "brand-new-pass"},
            headers={"Authorization": f"Bearer {await world_a.super_token()}"},
        )
        assert r.status_code == 200

        async def agent_refused() -> bool:
            r = await http_b.get(config, headers=agent.headers)
            return r.status_code == 401

        await until(agent_refused)


async def test_a_node_id_belongs_to_its_manager(world: OasWorld) -> None:
    manager_a = await world.manager("mgr-a")
    manager_b = await world.manager("mgr-b")
    await world.agent(manager_a, node_id="SHARED-NODE")
    before = (await world.http.get("/api/v1/manager/nodes", headers=manager_a["headers"])).json()
    r = await world.http.post(
        "/api/v1/agent/auth/login",
        json={"username": "mgr-b", "password": "secret123", "node_id": "SHARED-NODE"},
    )
    assert (r.status_code, r.json()) == (409, {"detail": "node_id 已被其他管理员的节点使用"})
    after = (await world.http.get("/api/v1/manager/nodes", headers=manager_a["headers"])).json()
    assert after == before and [n["node_id"] for n in after["data"]["items"]] == ["SHARED-NODE"]
    theirs = (await world.http.get("/api/v1/manager/nodes", headers=manager_b["headers"])).json()
    assert theirs["data"]["items"] == []
    # The owner's agent logs in from it again as before; B's agent works from a node of its own.
    await world.agent(manager_a, node_id="SHARED-NODE")
    await world.agent(manager_b, node_id="B-NODE-1")
