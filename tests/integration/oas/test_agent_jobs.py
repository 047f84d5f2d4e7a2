"""Seed 000 sections 4.1-4.6: login, poll, start, heartbeat, complete, fail, over a real socket."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.oas.conftest import OasWorld, parse_time

SEED_JOB_KEYS = {
    "ID",
    "ManagerID",
    "UserID",
    "TaskType",
    "Payload",
    "Priority",
    "ScheduledAt",
    "Status",
    "LeasedByNode",
    "LeaseUntil",
    "Attempts",
    "MaxAttempts",
    "CreatedAt",
    "UpdatedAt",
}


async def test_login_returns_token_manager_and_node(world: OasWorld) -> None:
    manager = await world.manager()
    r = await world.http.post(
        "/api/v1/agent/auth/login",
        json={"username": "mgr1", "password": "secret123", "node_id": "LAPTOP-ABC-1234", "version": "1.0.0"},
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"token", "manager_id", "node_id"}
    assert body["manager_id"] == manager["id"]
    assert body["node_id"] == "LAPTOP-ABC-1234"
    nodes = await world.http.get("/api/v1/manager/nodes", headers=manager["headers"])
    [node] = nodes.json()["data"]["items"]
    assert node["node_id"] == "LAPTOP-ABC-1234"
    assert node["version"] == "1.0.0"
    assert node["status"] == "online"


async def test_poll_start_heartbeat_complete_round(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    created = await world.job(manager, user["id"], "signin")

    polled = await world.poll(agent, limit=10, lease_seconds=90)
    [job] = polled["jobs"]
    assert set(job) == SEED_JOB_KEYS
    assert job["ID"] == created["ID"]
    assert job["ManagerID"] == manager["id"]
    assert job["UserID"] == user["id"]
    assert job["TaskType"] == "signin"
    assert job["Payload"]["user_id"] == user["id"]
    assert job["Status"] == "leased"
    assert job["LeasedByNode"] == agent.node_id
    assert job["Attempts"] == 0 and job["MaxAttempts"] == 3
    lease_until = parse_time(polled["lease_until"])
    assert lease_until - world.clock.now() == timedelta(seconds=90)
    assert job["LeaseUntil"] == polled["lease_until"]

    r = await world.report(agent, job["ID"], "start", lease_seconds=90, message="已入队本地账号 1")
    assert r.status_code == 200 and r.content == b""
    world.clock.advance(60)
    r = await world.report(agent, job["ID"], "heartbeat", lease_seconds=90, message="本地队列繁忙，保持租约")
    assert r.status_code == 200
    assert parse_time(
        (await world.job_view(manager, job["ID"]))["LeaseUntil"]
    ) == world.clock.now() + timedelta(seconds=90)

    result = {
        "account_status": "active",
        "login_id": "game_account_001",
        "current_task": "",
        "assets": {"level": 150, "gold": 50000},
        "explore_progress": {"1": True, "2": False},
    }
    r = await world.report(agent, job["ID"], "complete", message="local batch done", result=result)
    assert r.status_code == 200
    view = await world.job_view(manager, job["ID"])
    assert view["Status"] == "success"
    assert view["Result"] == result
    users = (await world.http.get("/api/v1/manager/users", headers=manager["headers"])).json()["data"][
        "items"
    ]
    assert users[0]["archive_status"] == "active"
    assert users[0]["assets"] == {"level": 150, "gold": 50000}

    events = await world.http.get(f"/api/v1/manager/jobs/{job['ID']}/events", headers=manager["headers"])
    assert [e["event_type"] for e in events.json()["data"]["items"]] == [
        "created",
        "leased",
        "start",
        "heartbeat",
        "success",
    ]


async def test_complete_twice_is_idempotent_and_other_node_refused(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    other = await world.agent(manager, node_id="OTHER-NODE-1")
    user = await world.user(manager)
    job = await world.job(manager, user["id"])
    await world.poll(agent)
    r = await world.report(other, job["ID"], "complete", message="not mine")
    assert r.status_code == 403
    assert r.json() == {"detail": "租约不匹配"}
    assert (await world.report(agent, job["ID"], "complete", message="done")).status_code == 200
    assert (await world.report(agent, job["ID"], "complete", message="done")).status_code == 200
    assert (await world.report(other, job["ID"], "complete", message="late")).status_code == 403
    events = await world.http.get(f"/api/v1/manager/jobs/{job['ID']}/events", headers=manager["headers"])
    assert [e["event_type"] for e in events.json()["data"]["items"]].count("success") == 1
