"""The cloud scheduler: one job per due slot, next_time moving on, quiet hours, duiyi answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from agenthub.core.clock import ManualClock
from agenthub.core.jobs import JobQuery
from agenthub.protocols.oas.schedule_rules import BEIJING
from agenthub.protocols.oas.service import TASK_KIND
from agenthub.protocols.oas.spec import SPEC as OAS
from agenthub.server.runner import started
from agenthub.server.runtime import Runtime
from agenthub.server.startup import open_runtime
from tests.conftest import make_settings
from tests.integration.oas.conftest import OasWorld, parse_time
from tests.support.databases import PostgresTemplate


def bj(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


async def only_signin(world: OasWorld, manager: dict[str, Any], user_id: int) -> None:
    """Leaves signin as the user's one enabled task."""
    r = await world.http.get(f"/api/v1/manager/users/{user_id}/tasks", headers=manager["headers"])
    config = {name: {"enabled": name == "signin"} for name in r.json()["data"]["task_config"]}
    r = await world.http.put(
        f"/api/v1/manager/users/{user_id}/tasks", json={"task_config": config}, headers=manager["headers"]
    )
    assert r.status_code == 200, r.text


async def relogin(world: OasWorld, manager: dict[str, Any]) -> None:
    """Operator tokens last 12 hours; tests that jump days log in again."""
    r = await world.http.post(
        "/api/v1/manager/auth/login", json={"username": manager["username"], "password": "secret123"}
    )
    manager["headers"] = {"Authorization": f"Bearer {r.json()['token']}"}


async def task_settings(world: OasWorld, manager: dict[str, Any], user_id: int, task: str) -> dict[str, Any]:
    r = await world.http.get(f"/api/v1/manager/users/{user_id}/tasks", headers=manager["headers"])
    settings: dict[str, Any] = r.json()["data"]["task_config"][task]
    return settings


async def test_due_task_becomes_one_job_and_next_time_moves_on(world: OasWorld, runtime: Runtime) -> None:
    scheduler = OAS.state_of(runtime).scheduler
    manager = await world.manager()
    user = await world.user(manager)
    await only_signin(world, manager, user["id"])

    [job] = await scheduler.step()
    assert (job.type, job.subject_id, job.owner_id) == ("signin", user["id"], manager["id"])
    assert job.payload == {"user_id": user["id"], "source": "cloud_scheduler"}
    assert job.priority == 50
    assert await scheduler.step() == []  # the job is pending: nothing more for this task
    settings = await task_settings(world, manager, user["id"], "signin")
    assert parse_time(settings["next_time"]) == bj(3, 0, 1)  # daily_reset: tomorrow 00:01

    agent = await world.agent(manager)
    [polled] = (await world.poll(agent))["jobs"]
    assert polled["Payload"] == {"user_id": user["id"], "source": "cloud_scheduler"}
    world.clock.advance(60)
    assert (await world.report(agent, job.id, "complete", result={"login_id": "1"})).status_code == 200
    settings = await task_settings(world, manager, user["id"], "signin")
    assert parse_time(settings["next_time"]) == bj(3, 0, 1)
    assert await scheduler.step() == []  # not due until tomorrow

    world.clock.set(bj(3, 6, 0))
    [again] = await scheduler.step()
    assert again.type == "signin" and again.id != job.id
    await relogin(world, manager)
    agent = await world.agent(manager)
    await world.poll(agent)
    r = await world.report(agent, again.id, "fail", error_code="LOCAL_BATCH_FAILED", message="boom")
    assert r.status_code == 200
    settings = await task_settings(world, manager, user["id"], "signin")
    assert parse_time(settings["next_time"]) == bj(3, 6, 30)  # fail_delay: 30 minutes


async def test_task_payload_priority_and_next_time_from_config(world: OasWorld, runtime: Runtime) -> None:
    scheduler = OAS.state_of(runtime).scheduler
    manager = await world.manager()
    user = await world.user(manager)
    await only_signin(world, manager, user["id"])
    later = (world.clock.now() + timedelta(hours=1)).isoformat()
    r = await world.http.put(
        f"/api/v1/manager/users/{user['id']}/tasks",
        json={"task_config": {"signin": {"next_time": later, "priority": 77, "payload": {"mode": "fast"}}}},
        headers=manager["headers"],
    )
    assert r.status_code == 200
    assert await scheduler.step() == []
    world.clock.advance(hours=1)
    [job] = await scheduler.step()
    assert job.payload == {"mode": "fast", "user_id": user["id"], "source": "cloud_scheduler"}
    assert job.priority == 77


async def test_quiet_hours_and_inactive_users_get_nothing(world: OasWorld, runtime: Runtime) -> None:
    scheduler = OAS.state_of(runtime).scheduler
    manager = await world.manager()
    user = await world.user(manager)
    await only_signin(world, manager, user["id"])
    world.clock.set(bj(2, 5, 59))
    assert await scheduler.step() == []
    world.clock.set(bj(2, 6, 0))
    r = await world.http.patch(
        f"/api/v1/manager/users/{user['id']}/lifecycle",
        json={"status": "disabled"},
        headers=manager["headers"],
    )
    assert r.status_code == 200 and r.json()["data"]["status"] == "disabled"
    assert await scheduler.step() == []
    await world.http.patch(
        f"/api/v1/manager/users/{user['id']}/lifecycle", json={"status": "active"}, headers=manager["headers"]
    )
    world.clock.advance(days=31)  # the user (30 days) has expired
    assert await scheduler.step() == []


async def test_duiyi_jobs_only_for_answered_windows(world: OasWorld, runtime: Runtime) -> None:
    scheduler = OAS.state_of(runtime).scheduler
    manager = await world.manager()
    user = await world.user(manager, user_type="duiyi")
    world.clock.set(bj(2, 9, 0))
    r = await world.http.put(
        "/api/v1/manager/duiyi-answers", json={"answers": {"10:00": "左"}}, headers=manager["headers"]
    )
    assert r.status_code == 200 and r.json()["data"]["answers"] == {"10:00": "左"}
    assert await scheduler.step() == []  # before the first window

    bad = await world.http.put(
        "/api/v1/manager/duiyi-answers", json={"answers": {"12:00": "中"}}, headers=manager["headers"]
    )
    assert bad.status_code == 400 and "左" in bad.json()["detail"]
    bad = await world.http.put(
        "/api/v1/manager/duiyi-answers", json={"answers": {"11:00": "左"}}, headers=manager["headers"]
    )
    assert bad.status_code == 400

    world.clock.set(bj(2, 10, 5))
    [job] = await scheduler.step()
    assert job.type == "duiyi_jingcai"
    assert job.payload == {"user_id": user["id"], "source": "cloud_scheduler", "answer": "左"}
    agent = await world.agent(manager)
    await world.poll(agent)
    assert (await world.report(agent, job.id, "complete", result={})).status_code == 200

    world.clock.set(bj(2, 12, 1))  # next_time is 12:00 now, but 12:00 has no answer
    assert await scheduler.step() == []
    await world.http.put(
        "/api/v1/manager/duiyi-answers", json={"answers": {"12:00": "右"}}, headers=manager["headers"]
    )
    got = await world.http.get("/api/v1/manager/duiyi-answers", headers=manager["headers"])
    assert got.json()["data"]["answers"] == {"10:00": "左", "12:00": "右"}
    assert got.json()["data"]["current_window"] == "12:00"
    [second] = await scheduler.step()
    assert second.payload["answer"] == "右"


async def test_two_servers_on_one_postgres_create_one_job_per_slot(
    postgres_template: PostgresTemplate, clock: ManualClock
) -> None:
    url, name = await postgres_template.fresh()
    try:
        async with (
            open_runtime(make_settings(url), clock=clock) as one,
            open_runtime(make_settings(url), clock=clock) as two,
            started(one, [OAS]),
            started(two, [OAS]),
        ):
            first, second = OAS.state_of(one), OAS.state_of(two)
            manager = await first.managers.create_manager(
                username="mgr1",
                password_hash="x",
                alias="",
                expires_at=clock.now() + timedelta(days=9),
                now=clock.now(),
            )
            users = [
                await first.users.create_user(
                    manager_id=manager.id,
                    user_type="daily",
                    login_id=None,
                    username="",
                    server="",
                    expires_at=clock.now() + timedelta(days=9),
                    now=clock.now(),
                )
                for _ in range(3)
            ]
            for _ in range(3):
                await asyncio.gather(first.scheduler.step(), second.scheduler.step())
            jobs, total = await one.engine.find(JobQuery(kind=TASK_KIND), limit=1000)
            enabled = [
                n for n, s in (await first.full_config(users[0]))["task_config"].items() if s["enabled"]
            ]
            assert total == len(users) * len(enabled)
            assert len({(j.subject_id, j.type) for j in jobs}) == total
    finally:
        await postgres_template.drop(name)
