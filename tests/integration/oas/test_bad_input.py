"""Bad input gets a clear {"detail": ...} in the seed's status codes, and never reaches or corrupts data."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from tests.integration.oas.conftest import OasWorld

AGENT_POSTS = [
    "/api/v1/agent/poll-jobs",
    "/api/v1/agent/jobs/1/start",
    "/api/v1/agent/jobs/1/heartbeat",
    "/api/v1/agent/jobs/1/complete",
    "/api/v1/agent/jobs/1/fail",
    "/api/v1/agent/users/1/logs",
]


@pytest.mark.parametrize("path", AGENT_POSTS)
async def test_agent_endpoints_need_a_token(world: OasWorld, path: str) -> None:
    r = await world.http.post(path, json={"node_id": "LAPTOP-ABC-1234"})
    assert r.status_code == 401
    assert r.json() == {"detail": "缺少认证令牌"}


async def test_bad_tokens_are_refused(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    body = {"node_id": agent.node_id}
    forged = jwt.encode(
        {
            "sub": "1",
            "role": "agent",
            "manager_id": manager["id"],
            "node_id": agent.node_id,
            "exp": 9999999999,
        },
        "not-the-secret",
        algorithm="HS256",
    )
    for token, expected in (("garbage", "认证令牌无效"), (forged, "认证令牌无效")):
        r = await world.http.post(
            "/api/v1/agent/poll-jobs", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert (r.status_code, r.json()) == (401, {"detail": expected})
    world.clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    r = await world.http.post("/api/v1/agent/poll-jobs", json=body, headers=agent.headers)
    assert (r.status_code, r.json()) == (401, {"detail": "认证令牌已过期"})


async def test_a_manager_token_is_not_an_agent_token(world: OasWorld) -> None:
    manager = await world.manager()
    r = await world.http.post(
        "/api/v1/agent/poll-jobs", json={"node_id": "LAPTOP-ABC-1234"}, headers=manager["headers"]
    )
    assert (r.status_code, r.json()) == (403, {"detail": "权限不足"})
    r = await world.http.get("/api/v1/super/managers", headers=manager["headers"])
    assert r.status_code == 403


async def test_an_agent_cannot_speak_for_another_node(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    r = await world.http.post(
        "/api/v1/agent/poll-jobs", json={"node_id": "SOMEONE-ELSE"}, headers=agent.headers
    )
    assert r.status_code == 403


async def test_login_failures(world: OasWorld) -> None:
    await world.manager()
    await world.manager("lapsed", expires_in=timedelta(days=-1))
    await world.manager("never", expires_in=None)
    cases = [
        ({"username": "mgr1", "password": "wrong-pass", "node_id": "NODE-1"}, 401, "账号或密码错误"),
        ({"username": "nobody", "password": "secret123", "node_id": "NODE-1"}, 401, "账号或密码错误"),
        (
            {"username": "lapsed", "password": "secret123", "node_id": "NODE-1"},
            403,
            "管理员账号未激活或已过期",
        ),
        (
            {"username": "never", "password": "secret123", "node_id": "NODE-1"},
            403,
            "管理员账号未激活或已过期",
        ),
    ]
    for body, status, detail in cases:
        r = await world.http.post("/api/v1/agent/auth/login", json=body)
        assert (r.status_code, r.json()) == (status, {"detail": detail}), body


async def test_a_manager_that_expires_after_login_gets_no_more_jobs(world: OasWorld) -> None:
    manager = await world.manager(expires_in=timedelta(hours=1))
    agent = await world.agent(manager)
    user = await world.user(manager)
    await world.job(manager, user["id"])
    world.clock.advance(hours=2)
    r = await world.http.post(
        "/api/v1/agent/poll-jobs", json={"node_id": agent.node_id}, headers=agent.headers
    )
    assert (r.status_code, r.json()) == (403, {"detail": "管理员账号未激活或已过期"})


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "node_id"),
        ({"node_id": "LAPTOP-ABC-1234", "limit": "ten"}, "limit"),
        ({"node_id": "LAPTOP-ABC-1234", "limit": 0}, "limit"),
        ({"node_id": "LAPTOP-ABC-1234", "lease_seconds": "long"}, "lease_seconds"),
        ({"node_id": ["not", "a", "string"]}, "node_id"),
    ],
)
async def test_malformed_fields_are_400_with_a_readable_detail(
    world: OasWorld, body: dict[str, object], fragment: str
) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    r = await world.http.post("/api/v1/agent/poll-jobs", json=body, headers=agent.headers)
    assert r.status_code == 400
    assert fragment in r.json()["detail"]


async def test_invalid_json_and_missing_body(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    headers = {**agent.headers, "Content-Type": "application/json"}
    r = await world.http.post("/api/v1/agent/poll-jobs", content=b'{"node_id": ', headers=headers)
    assert (r.status_code, r.json()) == (400, {"detail": "请求体不是合法的 JSON"})
    r = await world.http.post("/api/v1/agent/poll-jobs", headers=agent.headers)
    assert r.status_code == 400


async def test_oversized_bodies_are_refused_before_they_are_read(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    huge = {"logs": [{"type": "x", "level": "INFO", "message": "y" * 8000}] * 1200}
    r = await world.http.post(f"/api/v1/agent/users/{user['id']}/logs", json=huge, headers=agent.headers)
    assert (r.status_code, r.json()) == (413, {"detail": "请求体过大"})
    logs = await world.http.get(f"/api/v1/manager/users/{user['id']}/logs", headers=manager["headers"])
    assert logs.json()["data"]["total"] == 0


async def test_another_managers_ids_are_not_found(world: OasWorld) -> None:
    manager = await world.manager()
    rival = await world.manager("mgr2")
    agent = await world.agent(manager)
    rival_user = await world.user(rival)
    rival_job = await world.job(rival, rival_user["id"])
    for action in ("start", "heartbeat", "complete", "fail"):
        r = await world.report(agent, rival_job["ID"], action)
        assert (r.status_code, r.json()) == (404, {"detail": "任务不存在"}), action
    uid = rival_user["id"]
    assert (
        await world.http.get(f"/api/v1/agent/users/{uid}/full-config", headers=agent.headers)
    ).status_code == 404
    r = await world.http.patch(
        f"/api/v1/agent/users/{uid}/game-profile", json={"server": "x"}, headers=agent.headers
    )
    assert r.status_code == 404
    r = await world.http.get(f"/api/v1/manager/users/{uid}/logs", headers=manager["headers"])
    assert r.status_code == 404
    r = await world.http.get(f"/api/v1/manager/jobs/{rival_job['ID']}/events", headers=manager["headers"])
    assert r.status_code == 404
    r = await world.http.post(
        "/api/v1/manager/jobs", json={"user_id": uid, "task_type": "signin"}, headers=manager["headers"]
    )
    assert r.status_code == 404
    view = await world.job_view(rival, rival_job["ID"])
    assert view["Status"] == "pending"


async def test_unknown_routes_and_methods_use_the_error_format(world: OasWorld) -> None:
    r = await world.http.get("/api/v1/nothing-here")
    assert (r.status_code, r.json()) == (404, {"detail": "资源不存在"})
    r = await world.http.get("/api/v1/agent/poll-jobs")
    assert r.status_code == 405 and "detail" in r.json()
