"""Two replicas on one PostgreSQL database with Redis between them: an operator's task created on B runs on
an agent connected to A; cancel, live logs and connection replacement cross replicas too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agenthub.core.clock import ManualClock
from agenthub.server.startup import open_runtime
from tests.integration.iac.conftest import ADMIN_KEY, IacWorld, settings_for
from tests.support.databases import PostgresTemplate
from tests.support.servers import serving
from tests.support.services import require_redis


@pytest.fixture
async def replicas(
    postgres_template: PostgresTemplate, clock: ManualClock
) -> AsyncIterator[tuple[IacWorld, IacWorld]]:
    redis_url = require_redis()
    url, name = await postgres_template.fresh()
    try:
        async with (
            open_runtime(settings_for(url, redis_url=redis_url), clock=clock) as runtime_a,
            serving(runtime_a, "iac") as listeners_a,
            open_runtime(settings_for(url, redis_url=redis_url), clock=clock) as runtime_b,
            serving(runtime_b, "iac") as listeners_b,
            httpx.AsyncClient(base_url=listeners_a.urls["iac"], headers={"X-Admin-Key": ADMIN_KEY}) as http_a,
            httpx.AsyncClient(base_url=listeners_b.urls["iac"], headers={"X-Admin-Key": ADMIN_KEY}) as http_b,
        ):
            yield (
                IacWorld(listeners_a.urls["iac"], http_a, runtime_a, clock),
                IacWorld(listeners_b.urls["iac"], http_b, runtime_b, clock),
            )
    finally:
        await postgres_template.drop(name)


async def test_tasks_cancel_and_live_logs_cross_replicas(replicas: tuple[IacWorld, IacWorld]) -> None:
    a, b = replicas
    app = await b.application()
    await b.register("agent-1", app)
    ws = await b.workspace(app)
    reached, go = asyncio.Event(), asyncio.Event()
    holding = {"on": False}

    async def hold(_task_id: int) -> None:
        if holding["on"]:
            reached.set()
            await go.wait()

    async with a.real_agent("agent-1", app, before_apply=hold) as agent:
        assert "agent-1" in a.state.hub.connections and not b.state.hub.connections
        # Created on B, pushed from A (B has no agent; Redis wakes A's dispatcher).
        plan = await b.wait_final(await b.task(ws, "plan"))
        assert (plan["status"], plan["agent_id"]) == ("success", "agent-1")
        applied = await b.wait_final(await b.task(ws, "apply"))
        assert applied["status"] == "applied"

        # Live logs: the operator watches on B, the agent streams to A.
        holding["on"] = True
        watched = await b.task(ws, "apply")
        await asyncio.wait_for(reached.wait(), 20)
        feed_url = b.url.replace("http://", "ws://") + f"/api/v1/admin/tasks/{watched}/logs/ws"
        async with connect(feed_url, additional_headers={"X-Admin-Key": ADMIN_KEY}) as feed:
            assert json.loads(await feed.recv())["type"] == "subscribed"
            r = await b.http.post(f"/api/v1/admin/tasks/{watched}/realtime-stream", json={"enabled": True})
            assert r.status_code == 200
            await asyncio.wait_for(agent.running[watched].streaming.wait(), 10)
            go.set()
            async with asyncio.timeout(20):
                while True:
                    message = json.loads(await feed.recv())
                    if "Apply complete!" in message["payload"]["line"]:
                        break
        assert await agent.wait_finished(watched) == "completed"

        # Cancel on B reaches the agent on A.
        reached.clear()
        go.clear()
        doomed = await b.task(ws, "apply")
        await asyncio.wait_for(reached.wait(), 20)
        r = await b.http.post(f"/api/v1/admin/tasks/{doomed}/cancel")
        assert r.json()["status"] == "cancelled"
        assert await agent.wait_finished(doomed) == "cancelled"
    versions = (await a.http.get(f"/api/v1/admin/workspaces/{ws}/state-versions")).json()["state_versions"]
    assert [v["version"] for v in versions] == [1, 2]


async def test_a_connection_on_b_replaces_one_on_a(replicas: tuple[IacWorld, IacWorld]) -> None:
    a, b = replicas
    app = await a.application()
    await a.register("agent-1", app)
    ws = await a.workspace(app)
    async with a.raw_agent("agent-1", app) as on_a:
        task_id = await a.task(ws, "plan")
        assert (await on_a.receive())["payload"]["task_id"] == task_id
        old = on_a.ws
        assert old is not None
        async with b.raw_agent("agent-1", app) as on_b:
            with pytest.raises(ConnectionClosed) as closed:
                await old.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
            assert (
                await on_b.status(task_id, "running")
            ).status_code == 200  # the task stayed with the agent
            assert (await a.view(task_id))["attempts"] == 0
            other = await a.task(ws, "plan")  # created on A, pushed by B where the agent now is
            message = await on_b.receive()
            assert (message["type"], message["payload"]["task_id"]) == ("run_task", other)
