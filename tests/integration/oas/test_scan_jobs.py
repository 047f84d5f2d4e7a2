"""Seed 000 sections 4.11-4.17 and the scan flow of section 7: agent endpoints, the user's endpoints and
WebSocket, cancel, the user leaving, lease expiry and the total timeout, with the clock moved by hand."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from agenthub.core.clock import ManualClock
from agenthub.protocols.oas.scan.settings import ScanSettings
from agenthub.protocols.oas.settings import OasSettings
from agenthub.protocols.oas.spec import SPEC as OAS
from agenthub.sdk.oas import OasAgentClient, ScanJob, ScanOutcome, ScanPoller, ScanSteps
from agenthub.server.runtime import Runtime
from tests.integration.oas.conftest import Agent, OasWorld, parse_time
from tests.integration.oas.scan_support import ScanUser, agent_call, eventually, scan_poll, scan_user

PNG = base64.b64encode(b"\x89PNG fake qrcode").decode()


@pytest.fixture(autouse=True)
def fast_sweep(runtime: Runtime) -> None:
    """Set before the server starts, so the server's loop sweeps often."""
    oas = runtime.settings.protocol("oas", OasSettings)
    runtime.settings.protocols["oas"] = oas.model_copy(
        update={"scan": ScanSettings(sweep_interval_seconds=0.02)}
    )


async def setup(world: OasWorld) -> tuple[dict[str, Any], Agent, ScanUser]:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await scan_user(world, manager)
    return manager, agent, user


async def test_scan_flow_end_to_end_with_websocket(world: OasWorld) -> None:
    _, agent, user = await setup(world)
    await user.connect()
    r = await user.post("create")
    assert r.status_code == 201
    assert r.json() == {"data": {"scan_job_id": r.json()["data"]["scan_job_id"], "position_in_queue": 1}}
    scan_id = r.json()["data"]["scan_job_id"]
    assert (await user.status())["phase"] == "waiting"

    polled = await scan_poll(world, agent)
    assert polled["jobs"] == [
        {
            "scan_job_id": scan_id,
            "user_id": user.user["id"],
            "login_id": user.user["login_id"],
            "lease_until": polled["lease_until"],
        }
    ]
    assert (parse_time(polled["lease_until"]) - world.clock.now()).total_seconds() == 120

    r = await agent_call(world, agent, scan_id, "start", lease_seconds=120)
    assert r.json() == {"data": {"message": "ok"}}
    assert await user.next_message() == {"type": "phase_change", "phase": "launching"}

    await agent_call(
        world, agent, scan_id, "phase", phase="qrcode_ready", screenshot=PNG, screenshot_key="qrcode"
    )
    assert await user.next_message() == {"type": "phase_change", "phase": "qrcode_ready", "screenshot": PNG}
    status = await user.status()
    assert status["status"] == "running" and status["phase"] == "qrcode_ready"
    assert status["screenshots"] == {"qrcode": PNG}
    assert status["position_in_queue"] == 0 and status["login_id"] == user.user["login_id"]

    for phase, choice_type, value in (
        ("choose_system", "system", "ios"),
        ("choose_zone", "zone", "不知火服"),
        ("choose_role", "role", "2"),
    ):
        r = await agent_call(world, agent, scan_id, "phase", phase=phase)
        assert r.status_code == 200, r.text
        assert await user.next_message() == {
            "type": "need_choice",
            "phase": phase,
            "choice_type": choice_type,
        }
        waiting = (await agent_call(world, agent, scan_id, "choice")).json()["data"]
        assert waiting == {
            "has_choice": False,
            "choice_type": None,
            "value": None,
            "cancelled": False,
            "user_online": True,
        }
        wrong = "zone" if choice_type != "zone" else "system"
        r = await user.post("choice", scan_job_id=scan_id, choice_type=wrong, value="x")
        assert r.status_code == 400
        assert r.json() == {"detail": f"当前阶段 {phase} 不接受 {wrong} 选择"}
        r = await user.post("choice", scan_job_id=scan_id, choice_type=choice_type, value=value)
        assert r.json() == {"data": {"message": "ok"}}
        got = (await agent_call(world, agent, scan_id, "choice")).json()["data"]
        assert got == {
            "has_choice": True,
            "choice_type": choice_type,
            "value": value,
            "cancelled": False,
            "user_online": True,
        }

    for phase in ("entering", "pulling_data", "done"):
        await agent_call(world, agent, scan_id, "phase", phase=phase)
        assert await user.next_message() == {"type": "phase_change", "phase": phase}
    assert (await agent_call(world, agent, scan_id, "choice")).json()["data"]["has_choice"] is False

    r = await agent_call(world, agent, scan_id, "heartbeat", lease_seconds=120)
    assert r.json() == {"data": {"message": "ok"}}
    message = f"扫码完成: login_id={user.user['login_id']}"
    r = await agent_call(world, agent, scan_id, "complete", message=message)
    assert r.json() == {"data": {"message": "ok"}}
    assert await user.next_message() == {
        "type": "completed",
        "login_id": user.user["login_id"],
        "message": message,
    }
    assert await user.status() == {"active": False, "cooldown_remaining_sec": 180}
    await user.close()


async def test_phase_order_lease_and_owner_checks(world: OasWorld) -> None:
    manager, agent, user = await setup(world)
    other = await world.agent(manager, node_id="OTHER-NODE-1")
    stranger = await world.agent(await world.manager("mgr2"), node_id="STRANGER-1")
    scan_id = await user.create()
    assert len((await scan_poll(world, agent, limit=5))["jobs"]) == 1
    r = await agent_call(world, other, scan_id, "start")
    assert (r.status_code, r.json()) == (403, {"detail": "租约不匹配"})
    assert (await agent_call(world, other, scan_id, "choice")).json() == {"detail": "租约不匹配"}
    assert (await agent_call(world, stranger, scan_id, "start")).status_code == 404
    await agent_call(world, agent, scan_id, "start")
    await agent_call(world, agent, scan_id, "phase", phase="choose_zone")
    r = await agent_call(world, agent, scan_id, "phase", phase="qrcode_ready")
    assert r.status_code == 400
    r = await agent_call(world, agent, scan_id, "phase", phase="unknown")
    assert r.status_code == 400
    r = await world.http.post(
        f"/api/v1/agent/scan/{scan_id}/start", json={"node_id": other.node_id}, headers=agent.headers
    )
    assert r.status_code == 403  # node_id must be the token's


async def test_one_active_scan_and_the_cooldown(world: OasWorld) -> None:
    user = await scan_user(world, await world.manager())
    scan_id = await user.create()
    r = await user.post("create")
    assert (r.status_code, r.json()) == (409, {"detail": "已有进行中的扫码任务"})
    assert (await user.post("cancel", scan_job_id=scan_id)).json() == {"data": {"message": "ok"}}
    r = await user.post("create")
    assert r.status_code == 429
    assert r.json()["cooldown_remaining_sec"] == 180
    world.clock.advance(100)
    assert (await user.status())["cooldown_remaining_sec"] == 80
    world.clock.advance(80)
    second = await user.create()
    await user.post("cancel", scan_job_id=second)
    assert (await user.post("create")).json()["cooldown_remaining_sec"] == 600
    world.clock.advance(24 * 3600)
    r = await world.http.post("/api/v1/user/auth/login", json={"account_no": user.user["account_no"]})
    user.token = r.json()["token"]  # the old token expired meanwhile
    await user.create()


async def test_user_cancel_stops_the_agent(world: OasWorld) -> None:
    _, agent, user = await setup(world)
    await user.connect()
    scan_id = await user.create()
    await scan_poll(world, agent)
    await agent_call(world, agent, scan_id, "start")
    assert (await user.next_message())["phase"] == "launching"
    assert (await user.post("cancel", scan_job_id=scan_id)).status_code == 200
    assert await user.next_message() == {"type": "cancelled", "message": "用户取消"}
    choice = (await agent_call(world, agent, scan_id, "choice")).json()["data"]
    assert choice["cancelled"] is True
    r = await agent_call(world, agent, scan_id, "fail", message="用户取消", error_code="CANCELLED")
    assert r.json() == {"data": {"message": "ok"}}
    assert (await agent_call(world, agent, scan_id, "complete")).status_code == 409
    assert (await user.post("cancel", scan_job_id=scan_id)).status_code == 200
    r = await user.post("choice", scan_job_id=scan_id, choice_type="system", value="ios")
    assert r.json() == {"detail": "扫码任务已结束"}
    assert (await user.status())["active"] is False
    await user.close()


async def test_user_leaving_cancels_the_scan(world: OasWorld) -> None:
    _, agent, user = await setup(world)
    await user.connect()
    scan_id = await user.create()
    await scan_poll(world, agent)
    await agent_call(world, agent, scan_id, "start")
    await user.next_message()
    world.clock.advance(50)
    assert (await user.post("heartbeat", scan_job_id=scan_id)).json() == {"data": {"message": "ok"}}
    world.clock.advance(31)
    await agent_call(world, agent, scan_id, "heartbeat")
    choice = (await agent_call(world, agent, scan_id, "choice")).json()["data"]
    assert choice["user_online"] is False and choice["cancelled"] is False
    world.clock.advance(30)
    assert await user.next_message() == {"type": "cancelled", "message": "用户离开扫码页面"}
    assert (await agent_call(world, agent, scan_id, "choice")).json()["data"]["cancelled"] is True
    await user.close()


async def test_lease_expiry_requeues_then_expires(world: OasWorld) -> None:
    manager, agent, user = await setup(world)
    second = await world.agent(manager, node_id="SECOND-NODE")
    await user.connect()
    scan_id = await user.create()
    for attempt in range(1, 4):
        node = agent if attempt % 2 else second
        [job] = (await scan_poll(world, node, lease_seconds=20))["jobs"]
        assert job["scan_job_id"] == scan_id
        await agent_call(world, node, scan_id, "start", lease_seconds=20)
        assert (await user.next_message())["phase"] == "launching"
        await user.post("heartbeat", scan_job_id=scan_id)
        world.clock.advance(21)
        if attempt < 3:
            assert await user.next_message() == {
                "type": "phase_change",
                "phase": "waiting",
                "message": "执行节点超时，重新排队",
                "position": 1,
            }
            r = await agent_call(world, node, scan_id, "phase", phase="qrcode_ready")
            assert (r.status_code, r.json()) == (403, {"detail": "租约不匹配"})
    assert await user.next_message() == {"type": "failed", "message": "扫码执行超时"}
    assert (await user.status())["active"] is False
    await user.close()


async def test_total_timeout_expires_the_scan(world: OasWorld, runtime: Runtime) -> None:
    OAS.state_of(runtime).scans.settings.user_gone_seconds = 3600
    _, agent, user = await setup(world)
    await user.connect()
    scan_id = await user.create()
    await scan_poll(world, agent, lease_seconds=3600)
    await agent_call(world, agent, scan_id, "start", lease_seconds=3600)
    await user.next_message()
    world.clock.advance(15 * 60)
    assert await user.next_message() == {"type": "failed", "message": "总超时"}
    choice = (await agent_call(world, agent, scan_id, "choice")).json()["data"]
    assert choice["cancelled"] is True
    r = await agent_call(world, agent, scan_id, "fail", message="x", error_code="CANCELLED")
    assert r.status_code == 200
    await user.close()


async def test_fail_retries_until_max_attempts(world: OasWorld) -> None:
    _, agent, user = await setup(world)
    await user.connect()
    scan_id = await user.create()
    for attempt in range(1, 4):
        await scan_poll(world, agent)
        await agent_call(world, agent, scan_id, "start")
        assert (await user.next_message())["phase"] == "launching"
        r = await agent_call(world, agent, scan_id, "fail", message="扫码超时", error_code="EXECUTOR_ERROR")
        assert r.json() == {"data": {"message": "ok"}}
        if attempt < 3:
            assert await user.next_message() == {
                "type": "phase_change",
                "phase": "waiting",
                "message": "扫码超时",
                "position": 1,
            }
            assert (await user.status())["status"] == "pending"
    assert await user.next_message() == {"type": "failed", "message": "扫码超时"}
    await user.close()


async def test_websocket_auth_and_one_connection_per_user(world: OasWorld) -> None:
    user = await scan_user(world, await world.manager())
    good = user.token
    user.token = "not-a-token"
    ws = await user.connect()
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    user.token = good
    first = await user.connect()
    second = await user.connect()
    with pytest.raises(ConnectionClosed) as replaced:
        await asyncio.wait_for(first.recv(), 30)
    assert replaced.value.rcvd is not None and replaced.value.rcvd.code == 4000
    await user.create()
    await second.close()


async def test_sdk_scan_poller_walks_the_phases(world: OasWorld, oas_url: str) -> None:
    _, _, user = await setup(world)
    await user.connect()
    scan_id = await user.create()
    answers = {"system": "android", "zone": "不知火服", "role": "1"}
    async with OasAgentClient(oas_url, username="mgr1", password="secret123", node_id="SDK-NODE-1") as client:
        poller = ScanPoller(client, choice_interval=0.02)
        [job] = await client.scan_poll()
        run = asyncio.create_task(poller.run_job(job))
        seen = []
        while True:
            message = await user.next_message()
            seen.append(message.get("phase") or message["type"])
            if message["type"] == "need_choice":
                choice_type = message["choice_type"]
                await user.post(
                    "choice", scan_job_id=scan_id, choice_type=choice_type, value=answers[choice_type]
                )
            if message["type"] == "completed":
                break
        assert await run is ScanOutcome.COMPLETED
    assert seen == [
        "launching",
        "qrcode_ready",
        "choose_system",
        "choose_zone",
        "choose_role",
        "entering",
        "pulling_data",
        "done",
        "completed",
    ]
    await user.close()


async def test_sdk_scan_poller_stops_when_the_user_cancels(world: OasWorld, oas_url: str) -> None:
    _, _, user = await setup(world)
    scan_id = await user.create()
    async with OasAgentClient(oas_url, username="mgr1", password="secret123", node_id="SDK-NODE-1") as client:
        poller = ScanPoller(client, choice_interval=0.02)
        [job] = await client.scan_poll()
        run = asyncio.create_task(poller.run_job(job))

        async def waiting_for_system() -> bool:
            return (await user.status()).get("phase") == "choose_system"

        await eventually(waiting_for_system)
        await user.post("cancel", scan_job_id=scan_id)
        assert await run is ScanOutcome.CANCELLED


async def test_sdk_scan_poller_stops_a_step_when_a_heartbeat_finds_the_lease_gone(
    world: OasWorld, oas_url: str, runtime: Runtime, clock: ManualClock
) -> None:
    _, _, user = await setup(world)
    scan_id = await user.create()
    launching, cancelled = asyncio.Event(), asyncio.Event()

    async def launch(_job: ScanJob) -> None:
        launching.set()
        try:
            await asyncio.Event().wait()  # a game that takes forever to start
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with OasAgentClient(oas_url, username="mgr1", password="secret123", node_id="SDK-NODE-1") as client:
        # The choice watcher stays quiet (a long interval): only the heartbeat can notice the lost lease.
        poller = ScanPoller(
            client,
            steps=ScanSteps(launch=launch),
            choice_interval=600,
            heartbeat_interval=0.05,
            lease_seconds=30,
        )
        [job] = await client.scan_poll(lease_seconds=30)
        run = asyncio.create_task(poller.run_job(job))
        await asyncio.wait_for(launching.wait(), timeout=60)
        clock.advance(31)  # the lease ran out (the user is still within user_gone_seconds)
        assert await asyncio.wait_for(run, timeout=60) is ScanOutcome.LOST
    assert cancelled.is_set()
    events = await runtime.engine.events(scan_id)
    assert not [e for e in events if e.type in ("success", "fail", "cancel", "cancelled")]
