"""Seed 000 sections 4.1-4.6: login, poll, start, heartbeat, complete, fail, over a real socket."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from agenthub.core.engine import job_channel
from agenthub.protocols.oas.service import TASK_KIND
from agenthub.protocols.oas.spec import SPEC as OAS
from agenthub.protocols.oas.tables import users
from agenthub.server.runtime import Runtime
from tests.integration.oas.conftest import Agent, OasWorld, parse_time

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


async def test_poll_sees_only_own_managers_due_jobs_best_priority_first(world: OasWorld) -> None:
    manager = await world.manager()
    rival = await world.manager("mgr2")
    agent = await world.agent(manager)
    user = await world.user(manager)
    rival_user = await world.user(rival)
    low = await world.job(manager, user["id"], "explore", priority=10)
    high = await world.job(manager, user["id"], "signin", priority=90)
    await world.job(
        manager, user["id"], "yuhun", scheduled_at=(world.clock.now() + timedelta(hours=1)).isoformat()
    )
    await world.job(rival, rival_user["id"], "signin")
    polled = await world.poll(agent, limit=10)
    assert [j["ID"] for j in polled["jobs"]] == [high["ID"], low["ID"]]


async def test_poll_limit_defaults_to_10_and_is_capped_at_20(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    for _ in range(25):
        await world.job(manager, user["id"])
    assert len((await world.poll(agent))["jobs"]) == 10
    assert len((await world.poll(agent, limit=100))["jobs"]) == 15


async def test_duiyi_jingcai_jobs_carry_the_answer(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager, user_type="duiyi")
    await world.job(manager, user["id"], "duiyi_jingcai", payload={"answer": "左"})
    [job] = (await world.poll(agent))["jobs"]
    assert job["TaskType"] == "duiyi_jingcai"
    assert job["Payload"]["answer"] == "左"


async def test_fail_retries_until_max_attempts(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    job = await world.job(manager, user["id"], max_attempts=2)
    await world.poll(agent)
    r = await world.report(
        agent,
        job["ID"],
        "fail",
        message="本地批次失败",
        error_code="LOCAL_BATCH_FAILED",
        result={"account_status": "invalid", "login_id": "g1", "current_task": ""},
    )
    assert r.status_code == 200
    view = await world.job_view(manager, job["ID"])
    assert (view["Status"], view["Attempts"], view["ErrorCode"]) == ("pending", 1, "LOCAL_BATCH_FAILED")
    [again] = (await world.poll(agent))["jobs"]
    assert again["ID"] == job["ID"] and again["Attempts"] == 1
    await world.report(agent, job["ID"], "fail", message="again", error_code="LOCAL_EXEC_FAIL")
    view = await world.job_view(manager, job["ID"])
    assert (view["Status"], view["Attempts"]) == ("failed", 2)
    users = (await world.http.get("/api/v1/manager/users", headers=manager["headers"])).json()["data"][
        "items"
    ]
    assert users[0]["archive_status"] == "invalid"
    assert users[0]["assets"] == {}


async def test_a_report_writes_the_user_only_when_it_changes_something(
    world: OasWorld, runtime: Runtime
) -> None:
    """Agents report the same status again and again; only a change is written (a write holds the user's
    row lock until the report commits, and every agent reporting on that user would queue behind it)."""
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)

    async def stored() -> tuple[str, dict[str, object], object]:
        async with runtime.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(users.c.archive_status, users.c.assets, users.c.updated_at).where(
                        users.c.id == user["id"]
                    )
                )
            ).one()
        return row.archive_status, row.assets, row.updated_at

    async def report(result: dict[str, object]) -> None:
        job = await world.job(manager, user["id"])
        await world.poll(agent)
        world.clock.advance(5)
        r = await world.report(agent, job["ID"], "complete", message="done", result=result)
        assert r.status_code == 200

    await report({"account_status": "active", "assets": {"gold": 1}})
    first = await stored()
    assert first[:2] == ("active", {"gold": 1}) and first[2] == world.clock.now()
    await report({"account_status": "active", "assets": {"gold": 1}})
    assert await stored() == first  # nothing new: not written, updated_at included
    await report({"account_status": "active", "assets": {"gold": 2}})
    assert await stored() == ("active", {"gold": 2}, world.clock.now())


async def test_a_report_hands_on_the_user_whether_it_wrote_it_or_not(
    world: OasWorld, runtime: Runtime
) -> None:
    """What the after-report step (the reminder) gets from the report's transaction: the user's reminder
    settings, both when the report changed the user and when it left the row alone; nothing for no user."""
    manager = await world.manager()
    user = await world.user(manager)
    store = OAS.state_of(runtime).users
    now = world.clock.now()
    for status in ("banned", "banned"):  # written, then left alone
        async with runtime.db.write() as conn:
            recipient = await store.update_reported(
                user_id=user["id"], now=now, conn=conn, archive_status=status
            )
        assert recipient is not None
        assert (recipient.id, recipient.login_id) == (user["id"], user["login_id"])
    async with runtime.db.write() as conn:
        assert await store.update_reported(user_id=10**9, now=now, conn=conn, archive_status="x") is None


async def test_errors_retrying_cannot_fix_fail_at_once(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    for code in ("LOCAL_ACCOUNT_NOT_MAPPED", "LOCAL_ACCOUNT_MISSING", "TASK_TYPE_INVALID"):
        job = await world.job(manager, user["id"])
        await world.poll(agent)
        await world.report(agent, job["ID"], "fail", message=code, error_code=code)
        view = await world.job_view(manager, job["ID"])
        assert (view["Status"], view["Attempts"]) == ("failed", 1), code


async def test_heartbeat_after_the_lease_ran_out_is_refused(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    job = await world.job(manager, user["id"])
    await world.poll(agent, lease_seconds=30)
    world.clock.advance(31)
    r = await world.report(agent, job["ID"], "heartbeat", lease_seconds=30)
    assert r.status_code == 403
    assert r.json() == {"detail": "租约不匹配"}


async def test_unknown_job_is_404_and_finished_job_cannot_restart(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    r = await world.report(agent, 424242, "start")
    assert r.status_code == 404 and r.json() == {"detail": "任务不存在"}
    job = await world.job(manager, user["id"])
    await world.poll(agent)
    await world.report(agent, job["ID"], "complete")
    r = await world.report(agent, job["ID"], "start")
    assert r.status_code == 403


async def test_crashed_agent_job_returns_and_is_done_once_by_another_node(
    world: OasWorld, runtime: Runtime
) -> None:
    """An agent takes a job and vanishes: the reaper requeues it; another node completes it, once."""
    manager = await world.manager()
    crashed = await world.agent(manager, node_id="CRASHED-NODE")
    survivor = await world.agent(manager, node_id="SURVIVOR-NODE")
    user = await world.user(manager)
    job = await world.job(manager, user["id"])
    await world.poll(crashed, lease_seconds=30)
    await world.report(crashed, job["ID"], "start", lease_seconds=30)
    # The reaper loop (every 50 ms in tests; nobody polls meanwhile) requeues it: wait for the engine's own
    # announcement of that, not for the loop's timing.
    async with runtime.bus.subscribe(job_channel(TASK_KIND)) as changes:
        world.clock.advance(31)
        while True:
            got = await changes.get(timeout=60)
            assert got is not None, "the job was never requeued"
            if got[1]["job_id"] == job["ID"] and got[1]["event"] == "timeout_requeued":
                break
    view = await world.job_view(manager, job["ID"])
    assert view["Status"] == "pending" and view["Attempts"] == 1
    [again] = (await world.poll(survivor))["jobs"]
    assert again["ID"] == job["ID"] and again["LeasedByNode"] == "SURVIVOR-NODE"
    assert (await world.report(crashed, job["ID"], "complete", message="late")).status_code == 403
    assert (await world.report(survivor, job["ID"], "complete", message="done")).status_code == 200
    events = await world.http.get(f"/api/v1/manager/jobs/{job['ID']}/events", headers=manager["headers"])
    types = [e["event_type"] for e in events.json()["data"]["items"]]
    assert types == ["created", "leased", "start", "timeout_requeued", "leased", "success"]


async def test_many_agents_polling_at_once_never_share_a_job(world: OasWorld) -> None:
    manager = await world.manager()
    agents = [await world.agent(manager, node_id=f"RACE-NODE-{i}") for i in range(8)]
    user = await world.user(manager)
    created = {(await world.job(manager, user["id"]))["ID"] for _ in range(60)}

    async def drain(agent: Agent) -> list[int]:
        taken: list[int] = []
        while jobs := (await world.poll(agent, limit=3))["jobs"]:
            taken += [j["ID"] for j in jobs]
        return taken

    results = await asyncio.gather(*(drain(a) for a in agents))
    taken = [job_id for batch in results for job_id in batch]
    assert len(taken) == len(set(taken)) == len(created)
    assert set(taken) == created
