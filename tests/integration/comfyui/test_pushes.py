"""Pushes to slow, dead and real agents, over real sockets: every push has a total deadline, pushes to
different agents go out side by side, creating a task never waits on a push, and the original desktop agent
(which runs the whole task inside the push request) works end to end, pushed once."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.integration.comfyui.conftest import ComfyWorld, bearer, comfyui_settings
from tests.integration.comfyui.peers import Drip, OriginalAgent, healthy

PUSH_TIMEOUT = 2.0  # generous: under load an agent must still take its task in time


@pytest.fixture
def settings(database_url: str) -> Settings:
    base = make_settings(database_url)
    # The push loop runs on the doorbell only (task created, push ended), so these tests see every push.
    base.protocols["comfyui"] = comfyui_settings(push_timeout_seconds=PUSH_TIMEOUT)
    return base


async def engine_events(world: ComfyWorld, task_id: str) -> list[tuple[str, str | None]]:
    return [(e["type"], e["message"]) for e in (await world.task_view(task_id))["engine_events"]]


async def test_a_dripping_agent_is_cut_off_at_the_deadline_and_delays_no_one(world: ComfyWorld) -> None:
    drip = Drip(every=0.2)
    async with drip.peer as slow, healthy() as fast:
        await world.agent("slow", base_url=slow.url)
        await world.agent("fast", base_url=fast.url)
        manifest = await world.manifest()

        # the operator's answer does not wait for the push, which is still dripping when it comes
        slow_task = await world.task("slow", manifest["id"])
        assert (slow_task["status"], slow_task["pushes"]) == ("pending", 0)
        assert not drip.cut.is_set()
        async with asyncio.timeout(10):
            await slow.received.wait()

        # a healthy agent's push goes out while the slow one is still dripping
        fast_task = await world.task("fast", manifest["id"])
        async with asyncio.timeout(10):
            await fast.received.wait()
        assert not drip.cut.is_set()
        assert [r.json()["taskId"] for r in fast.requests] == [fast_task["id"]]

        # the dripping push is cut off (per-read timeouts never would), and the task is pending again
        async with asyncio.timeout(15):
            await drip.cut.wait()
        await world.context.pusher.settled()
        view = await world.task_view(slow_task["id"])
        assert (view["status"], view["pushes"]) == ("pending", 1)
        assert ("timeout_requeued", f"no answer within {PUSH_TIMEOUT:g} s") in await engine_events(
            world, slow_task["id"]
        )
        assert len(slow.requests) == 1  # and not pushed again before its retry is due


async def test_pushes_to_many_agents_go_out_side_by_side(world: ComfyWorld) -> None:
    drips = [Drip(every=0.2) for _ in range(3)]
    peers = [drip.peer for drip in drips]
    for peer in peers:
        await peer.__aenter__()
    try:
        manifest = await world.manifest()
        for i, peer in enumerate(peers):
            await world.agent(f"slow-{i}", base_url=peer.url)
            await world.task(f"slow-{i}", manifest["id"])
        # all three are held open at the same time: none waited for another to be cut off
        async with asyncio.timeout(10):
            await asyncio.gather(*(peer.received.wait() for peer in peers))
        assert not any(drip.cut.is_set() for drip in drips)
        assert set(world.context.pusher.in_flight) == {"slow-0", "slow-1", "slow-2"}
        async with asyncio.timeout(15):
            await asyncio.gather(*(drip.cut.wait() for drip in drips))
    finally:
        for peer in peers:
            await peer.__aexit__(None, None, None)


async def test_a_dead_agent_answers_nothing_and_the_task_waits_for_its_retry(world: ComfyWorld) -> None:
    async def never(*_args: Any) -> None:
        await asyncio.Event().wait()  # reads the request, then says nothing at all

    from tests.integration.comfyui.peers import Peer

    async with Peer(never) as dead:
        await world.agent("dead", base_url=dead.url)
        task = await world.task("dead", (await world.manifest())["id"])
        async with asyncio.timeout(10):
            await dead.received.wait()
        await world.context.pusher.settled()
        assert ("timeout_requeued", f"no answer within {PUSH_TIMEOUT:g} s") in await engine_events(
            world, task["id"]
        )
        assert (await world.task_view(task["id"]))["status"] == "pending"


async def test_the_original_desktop_agent_runs_a_task_inside_one_push(
    world: ComfyWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agenthub.protocols.comfyui")
    original = OriginalAgent(str(world.http.base_url), "desk-1")
    async with original.peer as endpoint:
        await world.agent("desk-1", base_url=endpoint.url)
        manifest = await world.manifest({"models": []}, name="empty")
        task = await world.task("desk-1", manifest["id"])

        async with asyncio.timeout(10):
            await original.working.wait()
        push = original.pushes[0]
        # both key styles, a fresh task token, and where to get the manifest
        assert push["task_id"] == push["taskId"] == task["id"]
        assert push["agent_id"] == push["agentId"] == "desk-1"
        assert push["manifest_url"] == f"{world.http.base_url}/api/agent/manifests/{manifest['id']}"
        assert push["manifestId"] == manifest["id"]
        assert push["actions"]["sync_models"] is True and push["actions"]["restart"] is False
        assert push["expires_at"] == push["expiresAt"] == task["expiresAt"]
        assert push["token"] and push["nonce"]
        assert original.manifest is not None and original.manifest["id"] == manifest["id"]
        assert (await world.task_view(task["id"]))["status"] == "running"

        # The agent works inside the push request for several push timeouts: the push stays in flight, the
        # task is not pushed again, and nothing is taken back. (Time must pass here: that is the point.)
        await asyncio.sleep(PUSH_TIMEOUT * 2)
        assert "desk-1" in world.context.pusher.in_flight
        assert len(original.pushes) == 1

        # its heartbeat, as it sends it, while the push is open
        agent_token = await world.agent_token("desk-1")
        beat = {
            "status": "active",
            "metrics": {"host": "desk"},
            "agentVersion": "desktop-0.1.0",
            "payload": {"runtime": {}, "updateState": {}},
        }
        r = await world.http.post(
            "/api/agent/agents/desk-1/heartbeat", json=beat, headers=bearer(agent_token)
        )
        assert r.status_code == 200

        original.release.set()
        async with asyncio.timeout(10):
            await original.answered.wait()
        await world.context.pusher.settled()

    view = await world.task_view(task["id"])
    assert (view["status"], view["pushes"]) == ("success", 1), view
    assert view["result"]["summary"] == "ok"
    assert [e["payload"].get("step") for e in view["events"]] == ["submit", "verify", "manifest"]
    assert [e["type"] for e in view["engine_events"]].count("timeout_requeued") == 0
    assert len(original.pushes) == 1
    seen = (await world.http.get("/api/agent/operator/agents/desk-1", headers=world.admin)).json()
    assert seen["agent_version"] == "desktop-0.1.0"
    assert "unreachable" not in caplog.text and "not pushed" not in caplog.text


async def test_the_original_agent_failing_inside_its_push_is_a_failed_task_pushed_once(
    world: ComfyWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agenthub.protocols.comfyui")
    original = OriginalAgent(str(world.http.base_url), "desk-1")
    original.failure = "Download x.safetensors failed"
    original.release.set()
    async with original.peer as endpoint:
        await world.agent("desk-1", base_url=endpoint.url)
        task = await world.task("desk-1", (await world.manifest())["id"])
        async with asyncio.timeout(10):
            await original.answered.wait()
        await world.context.pusher.settled()
    view = await world.task_view(task["id"])
    assert (view["status"], view["pushes"], view["error_code"]) == ("failed", 1, "DOWNLOAD_FAILED")
    assert view["message"] == "Download x.safetensors failed"
    # its 400 at the end of the push is how it says "failed", not a refusal of the push
    assert "timeout_requeued" not in [e["type"] for e in view["engine_events"]]
    assert "not pushed" not in caplog.text and len(original.pushes) == 1


async def test_the_original_agent_busy_with_another_task_gets_it_later(world: ComfyWorld) -> None:
    original = OriginalAgent(str(world.http.base_url), "desk-1")
    async with original.peer as endpoint:
        await world.agent("desk-1", base_url=endpoint.url)
        manifest = await world.manifest()
        original.busy = True  # running a task someone else gave it
        task = await world.task("desk-1", manifest["id"])
        async with asyncio.timeout(10):
            await endpoint.received.wait()
        await world.context.pusher.settled()
        assert ("timeout_requeued", "agent refused the task: HTTP 409") in await engine_events(
            world, task["id"]
        )
        original.busy = False
        original.release.set()
        world.clock.advance(world.context.settings.push_retry_seconds + 1)
        world.context.pusher.doorbell.ring()
        async with asyncio.timeout(10):
            await original.answered.wait()
            await world.context.pusher.settled()
    view = await world.task_view(task["id"])
    assert (view["status"], view["pushes"]) == ("success", 2)
