"""End to end over real sockets: a manager configures a user, the scheduler creates the job, the SDK agent
runs it, the result, assets, logs and next_time are updated, and the WeChat notification arrives."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from agenthub.cli.main import build_parser
from agenthub.core.clock import ManualClock
from agenthub.protocols.oas.agent_command import run_agent
from agenthub.protocols.oas.schedule_rules import BEIJING
from agenthub.protocols.oas.spec import SPEC as OAS
from agenthub.sdk.oas import JobPoller, LocalAccount, OasAgentClient, TaskOutcome, TaskRun
from agenthub.sdk.oas.simulate import simulated_handler
from agenthub.server.runtime import Runtime
from tests.integration.oas.conftest import OasWorld, parse_time
from tests.integration.oas.miao import fake_miao
from tests.integration.oas.scan_support import eventually


async def configure_user(world: OasWorld, manager: dict[str, Any], **user_fields: Any) -> dict[str, Any]:
    user = await world.user(manager, **user_fields)
    r = await world.http.get(f"/api/v1/manager/users/{user['id']}/tasks", headers=manager["headers"])
    config = {name: {"enabled": name == "signin"} for name in r.json()["data"]["task_config"]}
    r = await world.http.put(
        f"/api/v1/manager/users/{user['id']}/tasks", json={"task_config": config}, headers=manager["headers"]
    )
    assert r.status_code == 200, r.text
    r = await world.http.put(
        f"/api/v1/manager/users/{user['id']}/settings",
        json={
            "username": "晴明",
            "notify_config": {"wechat_enabled": True, "wechat_miao_code": "tQ9xYz1"},
            "lineup_config": {"逢魔": {"group": 1, "position": 3}},
            "rest_config": {"enabled": True, "mode": "random", "rest_start": "02:00", "rest_duration": 3},
        },
        headers=manager["headers"],
    )
    assert r.status_code == 200, r.text
    return user


def client_for(world: OasWorld, manager: dict[str, Any]) -> OasAgentClient:
    return OasAgentClient(
        str(world.http.base_url), username=manager["username"], password="secret123", node_id="SIM-NODE-0001"
    )


async def test_configure_schedule_run_report_notify(world: OasWorld, runtime: Runtime) -> None:
    oas = OAS.state_of(runtime)
    manager = await world.manager()
    user = await configure_user(world, manager, login_id="game_account_001")
    async with fake_miao() as miao:
        oas.notifier.base_url = miao.url
        [job] = await oas.scheduler.step()
        async with client_for(world, manager) as client:
            config = await client.full_config(user["id"])
            assert config["task_config"]["signin"]["enabled"] is True
            assert config["task_config"]["explore"]["enabled"] is False
            assert config["lineup_config"] == {"逢魔": {"group": 1, "position": 3}}
            assert config["rest_config"]["rest_start"] == "02:00"
            poller = JobPoller(client, handlers={"signin": simulated_handler(duration=0, seed=1)})
            assert await poller.run_once() == 1
        await asyncio.wait_for(miao.arrived.wait(), timeout=30)

    view = await world.job_view(manager, job.id)
    assert view["Status"] == "success"
    assert view["Result"]["login_id"] == "game_account_001"
    assert set(view["Result"]) == {"account_status", "login_id", "current_task", "assets", "explore_progress"}
    r = await world.http.get(f"/api/v1/manager/users/{user['id']}/assets", headers=manager["headers"])
    assert r.json()["data"]["assets"] == view["Result"]["assets"]
    r = await world.http.get(f"/api/v1/manager/users/{user['id']}/logs", headers=manager["headers"])
    messages = [e["message"] for e in r.json()["data"]["items"]]
    assert "批次完成: signin" in messages
    r = await world.http.get(f"/api/v1/manager/users/{user['id']}/tasks", headers=manager["headers"])
    tomorrow = datetime(2026, 3, 3, 0, 1, tzinfo=BEIJING).astimezone(UTC)
    assert parse_time(r.json()["data"]["task_config"]["signin"]["next_time"]) == tomorrow

    [sent] = miao.requests
    assert sent["id"] == "tQ9xYz1" and sent["type"] == "json"
    assert sent["text"].splitlines() == [
        "账号: game_account_001",
        "角色: 晴明",
        "任务: 每日签到 (signin)",
        "结果: 成功 ✓",
        f"详情: local batch done, account={user['id']}, tasks=[signin]",
    ]


async def test_unmapped_account_fails_the_job_at_once(world: OasWorld, runtime: Runtime) -> None:
    oas = OAS.state_of(runtime)
    manager = await world.manager()
    user = await configure_user(world, manager)
    [job] = await oas.scheduler.step()
    async with client_for(world, manager) as client:
        poller = JobPoller(
            client,
            handlers={"signin": simulated_handler(duration=0)},
            account_map={user["id"] + 100: LocalAccount(id=1, login_id="x", cloud_user_id=user["id"] + 100)},
        )
        assert await poller.run_once() == 1
    view = await world.job_view(manager, job.id)
    assert view["Status"] == "failed" and view["ErrorCode"] == "LOCAL_ACCOUNT_NOT_MAPPED"


async def test_poller_heartbeats_while_handler_runs_and_stops_cleanly(
    world: OasWorld, runtime: Runtime
) -> None:
    oas = OAS.state_of(runtime)
    manager = await world.manager()
    await configure_user(world, manager)
    [job] = await oas.scheduler.step()
    started, beaten = asyncio.Event(), asyncio.Event()

    async def handler(run: TaskRun) -> TaskOutcome:
        started.set()
        await beaten.wait()  # runs until a heartbeat went through, then fails (retryable)
        return TaskOutcome(False, "simulated failure: signin", "LOCAL_BATCH_FAILED")

    async with client_for(world, manager) as client:
        heartbeat = client.heartbeat

        async def counted_heartbeat(job_id: int, **fields: Any) -> None:
            await heartbeat(job_id, **fields)
            beaten.set()

        client.heartbeat = counted_heartbeat  # type: ignore[method-assign]
        poller = JobPoller(client, handlers={"signin": handler}, heartbeat_interval=0.05, poll_interval=0.05)
        async with poller:
            await asyncio.wait_for(started.wait(), timeout=60)
        # Leaving the block stops polling while the handler still runs (concurrency 1: no poll while busy)
        # and waits for its report, so the job was leased exactly once.
        assert poller.processed == 1
    view = await world.job_view(manager, job.id)
    assert view["Status"] == "pending" and view["Attempts"] == 1  # a retryable failure goes back
    r = await world.http.get(f"/api/v1/manager/jobs/{job.id}/events", headers=manager["headers"])
    kinds = [e["event_type"] for e in r.json()["data"]["items"]]
    assert kinds[:3] == ["created", "leased", "start"] and "heartbeat" in kinds and kinds[-1] == "fail"


async def test_poller_cancels_a_handler_whose_lease_is_lost_and_reports_nothing(
    world: OasWorld, runtime: Runtime, clock: ManualClock
) -> None:
    oas = OAS.state_of(runtime)
    manager = await world.manager()
    await configure_user(world, manager)
    [job] = await oas.scheduler.step()
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def handler(run: TaskRun) -> TaskOutcome:
        started.set()
        try:
            await asyncio.Event().wait()  # works until told to stop
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return TaskOutcome(True, "never")

    async with client_for(world, manager) as client:
        poller = JobPoller(client, handlers={"signin": handler}, heartbeat_interval=0.05, lease_seconds=30)
        running = asyncio.create_task(poller.run_once())
        await asyncio.wait_for(started.wait(), timeout=60)
        clock.advance(31)  # the lease ran out; another node takes the job
        other = await world.agent(manager, node_id="OTHER-NODE-0002")
        taken: list[int] = []

        async def other_takes_it() -> bool:
            # A poll skips a job the reaper (running on its own in the background) holds while it expires
            # it (SKIP LOCKED); the next poll takes it.
            taken.extend(j["ID"] for j in (await world.poll(other, limit=1))["jobs"])
            return bool(taken)

        await eventually(other_takes_it)
        assert taken == [job.id]
        assert await asyncio.wait_for(running, timeout=60) == 1
    assert cancelled.is_set() and poller.processed == 1
    held = await runtime.engine.get(job.id)
    assert held.status.value == "leased" and held.leased_by == "OTHER-NODE-0002"
    events = await runtime.engine.events(job.id)
    assert not [e for e in events if e.type in ("success", "fail")]
    # What the first node did: leased, started, kept the lease, then lost it to the clock; nothing after.
    first = {e.type for e in events if e.node_id == "SIM-NODE-0001"}
    assert first <= {"leased", "start", "heartbeat", "timeout_requeued"}


async def test_slow_or_broken_miao_never_slows_or_fails_the_report(world: OasWorld, runtime: Runtime) -> None:
    oas = OAS.state_of(runtime)
    manager = await world.manager()
    agent = await world.agent(manager)
    for _ in range(2):
        await configure_user(world, manager)
    assert len(await oas.scheduler.step()) == 2
    async with fake_miao(hang=True) as slow, fake_miao(status=500) as broken:
        for miao in (slow, broken):
            oas.notifier.base_url = miao.url
            oas.notifier._last_sent.clear()
            [polled] = (await world.poll(agent, limit=1))["jobs"]
            # The slow Miao answers nothing until released (after the report): had the report waited for it,
            # it would never return.
            r = await asyncio.wait_for(
                world.report(agent, polled["ID"], "fail", error_code="LOCAL_BATCH_FAILED", message="boom"),
                timeout=30,
            )
            assert r.status_code == 200
            await asyncio.wait_for(miao.arrived.wait(), timeout=30)
            assert not miao.release.is_set()
            miao.release.set()
            assert "失败 ✗" in miao.requests[0]["text"]
            assert (await world.job_view(manager, polled["ID"]))["Status"] == "pending"
        await oas.notifier.drain()


async def test_one_message_per_code_per_15_seconds(world: OasWorld, runtime: Runtime) -> None:
    oas = OAS.state_of(runtime)
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await configure_user(world, manager)
    async with fake_miao() as miao:
        oas.notifier.base_url = miao.url
        for advance in (0, 5, 15):
            world.clock.advance(advance)
            job = await world.job(manager, user["id"], "signin")
            await world.poll(agent)
            assert (await world.report(agent, job["ID"], "complete", result={})).status_code == 200
            await oas.notifier.drain()
        assert len(miao.requests) == 2


async def test_cli_agent_runs_scheduled_jobs(
    world: OasWorld, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    oas = OAS.state_of(runtime)
    manager = await world.manager()
    await configure_user(world, manager)
    [job] = await oas.scheduler.step()
    parser = build_parser()
    server = ["--server", str(world.http.base_url), "--username", "mgr1", "--password", "secret123"]
    options = ["--duration", "0", "--poll-interval", "0.05", "--max-jobs", "1", "--scan"]
    args = parser.parse_args(["agent", "oas", *server, *options])
    assert await asyncio.wait_for(run_agent(args), timeout=60) == 1
    assert (await world.job_view(manager, job.id))["Status"] == "success"
    assert "scan" in capsys.readouterr().out
