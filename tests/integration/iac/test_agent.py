"""The shipped agent against the real server: logs complete and in order across injected network drops,
cancel during apply (terraform's step held by a test hook), live log lines to an operator, and a
terraform that ignores SIGTERM being killed."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import psutil
import pytest
from websockets.asyncio.client import connect

from agenthub.core.jobs import JobStatus
from agenthub.sdk.iac import terraform
from tests.integration.iac.conftest import ADMIN_KEY, IacWorld


class FlakyNetwork(httpx.AsyncBaseTransport):
    """Loses log chunk requests: some before they reach the server, some after (the answer is lost)."""

    def __init__(self, *, fail_before: set[int], lose_answer: set[int]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.fail_before = fail_before
        self.lose_answer = lose_answer
        self.chunks = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/logs/chunk"):
            self.chunks += 1
            if self.chunks in self.fail_before:
                raise httpx.ConnectError("injected: network down")
            if self.chunks in self.lose_answer:
                response = await self.inner.handle_async_request(request)
                await response.aread()
                await response.aclose()
                raise httpx.ReadError("injected: connection dropped before the answer")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_logs_complete_and_in_order_after_network_drops(world: IacWorld) -> None:
    app = await world.application()
    await world.register("a", app)
    ws = await world.workspace(app)
    network = FlakyNetwork(fail_before={3, 9}, lose_answer={2, 5, 6, 14})
    async with world.real_agent("a", app, transport=network, chunk_bytes=16) as agent:
        task_id = await world.task(ws, "apply")
        view = await world.wait_final(task_id)
        assert await agent.wait_finished(task_id) == "completed"
    assert view["status"] == "applied"
    assert network.chunks > 20
    printed = agent.outputs[task_id]
    assert view["plan_output"] == printed["init"] + printed["plan"]
    assert view["apply_output"] == printed["apply"]
    for phase in ("init", "plan", "apply"):
        assert await world.state.repo.log_text(task_id, phase) == printed[phase]


async def test_cancel_during_apply(world: IacWorld) -> None:
    app = await world.application()
    await world.register("a", app)
    ws = await world.workspace(app)
    reached, release = asyncio.Event(), asyncio.Event()

    async def hold(_task_id: int) -> None:
        reached.set()
        await release.wait()  # never set: only the cancel gets the agent out of here

    async with world.real_agent("a", app, before_apply=hold) as agent:
        task_id = await world.task(ws, "apply")
        await asyncio.wait_for(reached.wait(), 20)
        assert (await world.view(task_id))["stage"] == "applying"
        r = await world.http.post(f"/api/v1/admin/tasks/{task_id}/cancel")
        assert (r.status_code, r.json()["status"]) == (200, "cancelled")
        assert await agent.wait_finished(task_id) == "cancelled"
        assert task_id not in agent.running
        view = await world.view(task_id)
        assert (view["status"], view["completed_at"] is not None) == ("cancelled", True)
        assert "Apply complete" not in view["apply_output"]
        versions = (await world.http.get(f"/api/v1/admin/workspaces/{ws}/state-versions")).json()
        assert versions["state_versions"] == []
        # The agent is free again.
        release.set()
        after = await world.wait_final(await world.task(ws, "plan"))
        assert after["status"] == "success"
        again = await world.http.post(f"/api/v1/admin/tasks/{task_id}/cancel")
        assert again.status_code == 200
        finished = await world.http.post(f"/api/v1/admin/tasks/{after['id']}/cancel")
        assert (finished.status_code, finished.json()) == (409, {"error": "task is already success"})


async def test_live_log_lines_reach_the_operator(world: IacWorld) -> None:
    app = await world.application()
    await world.register("a", app)
    ws = await world.workspace(app)
    reached, go = asyncio.Event(), asyncio.Event()

    async def hold(_task_id: int) -> None:
        reached.set()
        await go.wait()

    async with world.real_agent("a", app, before_apply=hold) as agent:
        task_id = await world.task(ws, "apply")
        await asyncio.wait_for(reached.wait(), 20)
        url = world.url.replace("http://", "ws://") + f"/api/v1/admin/tasks/{task_id}/logs/ws"
        async with connect(url, additional_headers={"X-Admin-Key": ADMIN_KEY}) as feed:
            assert json.loads(await feed.recv())["type"] == "subscribed"
            r = await world.http.post(
                f"/api/v1/admin/tasks/{task_id}/realtime-stream", json={"enabled": True}
            )
            assert r.status_code == 200 and r.json()["agent_id"] == "a"
            await asyncio.wait_for(agent.running[task_id].streaming.wait(), 10)
            go.set()
            lines = []
            async with asyncio.timeout(20):
                while not any("Apply complete!" in line for line in lines):
                    message = json.loads(await feed.recv())
                    assert message["type"] == "log_stream"
                    payload = message["payload"]
                    assert (payload["task_id"], payload["stage"], payload["agent_id"]) == (
                        task_id,
                        "applying",
                        "a",
                    )
                    lines.append(payload["line"])
        assert await agent.wait_finished(task_id) == "completed"
    nums = [n for n in range(1, len(lines) + 1)]
    assert len(nums) == len(lines)
    done = await world.view(task_id)
    refused = await world.http.post(f"/api/v1/admin/tasks/{task_id}/realtime-stream", json={"enabled": False})
    assert done["status"] == "applied" and refused.status_code == 409


async def test_cancel_stops_a_terraform_that_ignores_sigterm(tmp_path: Path) -> None:
    printed: list[str] = []
    started = asyncio.Event()

    async def out(text: str) -> None:
        printed.append(text)
        started.set()

    script = "echo $$; trap '' TERM; exec sleep 30"
    runner = asyncio.create_task(
        terraform.run(
            ["sh", "-c", script], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, on_output=out, kill_after=0.3
        )
    )
    await asyncio.wait_for(started.wait(), 10)
    pid = int(printed[0].split()[0])
    assert psutil.pid_exists(pid)
    began = time.monotonic()
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert time.monotonic() - began < 5
    assert not psutil.pid_exists(pid)


async def test_agent_that_reconnects_mid_task_runs_the_requeued_task_again(world: IacWorld) -> None:
    app = await world.application()
    await world.register("a", app)
    ws = await world.workspace(app)
    holds: asyncio.Queue[int] = asyncio.Queue()
    go = asyncio.Event()

    async def hold(task_id: int) -> None:
        await holds.put(task_id)
        await go.wait()

    async with world.real_agent("a", app, before_apply=hold) as agent:
        task_id = await world.task(ws, "apply")
        assert await asyncio.wait_for(holds.get(), 20) == task_id
        await agent.drop_connection()  # the platform gives the task up and, once we are back, pushes it again
        assert await asyncio.wait_for(holds.get(), 20) == task_id
        assert agent.connections == 2
        go.set()
        view = await world.wait_final(task_id)
    assert (view["status"], view["attempts"], view["agent_id"]) == ("applied", 1, "a")
    assert [v["type"] for v in view["events"]].count("leased") == 2

    # An agent shut down mid-task reports nothing: the platform requeues the task for another agent.
    go.clear()
    async with world.real_agent("a", app, before_apply=hold):
        stopped = await world.task(ws, "apply")
        assert await asyncio.wait_for(holds.get(), 20) == stopped
    job = await world.wait_job(stopped, JobStatus.PENDING)
    assert (job.attempts, (await world.view(stopped))["status"]) == (1, "pending")
