"""The C&C channel and scheduling, with scripted agents: plan_limit, apply exclusivity, a heartbeat that
frees a slot, an agent that vanishes (requeue, then failed at max attempts), a connection replaced by a
newer one, and the seed's 60 s of silence."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from agenthub.core.jobs import JobStatus
from tests.integration.iac.conftest import IacWorld, RawAgent


async def run_task_id(agent: RawAgent) -> int:
    message = await agent.receive()
    assert message["type"] == "run_task", message
    payload: dict[str, Any] = message["payload"]
    assert set(payload) == {"task_id", "workspace_id", "action"}
    return int(payload["task_id"])


async def test_plan_limit_and_a_heartbeat_that_frees_a_slot(world: IacWorld) -> None:
    app = await world.application()
    await world.register("a", app)
    ws = await world.workspace(app)
    async with world.raw_agent("a", app, plan_limit=2) as agent:
        tasks = [await world.task(ws, "plan") for _ in range(3)]
        got = {await run_task_id(agent), await run_task_id(agent)}
        assert got == set(tasks[:2])
        await agent.nothing_within(0.3)
        assert (await world.view(tasks[2]))["status"] == "pending"
        assert (await agent.status(tasks[0], "success", stage="completed")).status_code == 200
        assert await run_task_id(agent) == tasks[2]  # the freed slot is used at once
        # Busy with work the server does not know of: its heartbeat says so, and then frees the slot.
        await agent.heartbeat(plans=2, tasks=[tasks[1], tasks[2]])
        await world.wait_for(lambda: agent.http.get("/api/v1/agents/a/cc-status"), plan_running=2)
        for task_id in tasks[1:]:
            assert (await agent.status(task_id, "success")).status_code == 200
        fourth = await world.task(ws, "plan")
        await agent.nothing_within(0.3)
        await agent.heartbeat(plans=0)
        assert await run_task_id(agent) == fourth


async def test_apply_work_is_exclusive_across_two_agents(world: IacWorld) -> None:
    app = await world.application()
    for name in ("a", "b"):
        await world.register(name, app)
    spaces = [await world.workspace(app, name=f"w{i}") for i in range(4)]
    async with world.raw_agent("a", app) as a, world.raw_agent("b", app) as b:
        plan1 = await world.task(spaces[0], "plan")
        assert await run_task_id(a) == plan1  # both idle: the first by name
        apply1 = await world.task(spaces[1], "apply")
        assert await run_task_id(b) == apply1  # a runs a plan: apply work only where no plan runs
        plan2 = await world.task(spaces[2], "plan")
        assert await run_task_id(a) == plan2  # b runs an apply: nothing else goes there
        apply2 = await world.task(spaces[3], "plan_and_apply")
        await a.nothing_within(0.3)
        await b.nothing_within(0.1)
        assert (await b.status(apply1, "applied", stage="completed")).status_code == 200
        assert await run_task_id(b) == apply2
        await a.nothing_within(0.1)


async def test_apply_waits_for_tasks_on_its_workspace(world: IacWorld) -> None:
    app = await world.application()
    await world.register("a", app)
    await world.register("b", app)
    ws = await world.workspace(app)
    async with world.raw_agent("a", app) as a, world.raw_agent("b", app) as b:
        plan = await world.task(ws, "plan")
        assert await run_task_id(a) == plan
        apply = await world.task(ws, "apply")
        await b.nothing_within(0.3)  # b is free, but the workspace is busy
        await a.status(plan, "success")
        assert await run_task_id(a) == apply


async def test_an_agent_that_vanishes_loses_its_task(world: IacWorld) -> None:
    app = await world.application()
    await world.register("a", app)
    await world.register("b", app)
    ws = await world.workspace(app)
    async with world.raw_agent("a", app) as a:
        task_id = await world.task(ws, "apply")
        assert await run_task_id(a) == task_id
        assert (await a.status(task_id, "running", stage="init")).status_code == 200
        async with world.raw_agent("b", app) as b:
            await b.nothing_within(0.1)
            assert a.ws is not None
            a.ws.transport.abort()  # gone without a goodbye
            assert await run_task_id(b) == task_id  # back in the queue, and out again
            view = await world.view(task_id)
            assert (view["agent_id"], view["attempts"], view["status"]) == ("b", 1, "pending")
            refused = await a.status(task_id, "running")
            assert refused.status_code == 403  # the vanished agent's late report changes nothing
        await world.wait_job(task_id, JobStatus.PENDING)
        await a.open()
        assert await run_task_id(a) == task_id
        await a.close()
    final = await world.wait_final(task_id)
    assert (final["status"], final["attempts"]) == ("failed", 3)
    assert final["error_message"] == "agent connection closed"


async def test_a_newer_connection_replaces_the_older(world: IacWorld) -> None:
    app = await world.application()
    await world.register("a", app)
    ws = await world.workspace(app)
    async with world.raw_agent("a", app) as first:
        task_id = await world.task(ws, "plan")
        assert await run_task_id(first) == task_id
        old = first.ws
        assert old is not None
        async with world.raw_agent("a", app) as second:
            with pytest.raises(ConnectionClosed) as closed:
                await old.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
            # The agent kept its task across the new connection.
            assert (await second.status(task_id, "running")).status_code == 200
            view = await world.view(task_id)
            assert (view["status"], view["attempts"]) == ("running", 0)
            cc = await second.http.get("/api/v1/agents/a/cc-status")
            assert cc.status_code == 200 and cc.json()["connected"] is True
            other = await world.task(ws, "plan")
            assert await run_task_id(second) == other


async def test_sixty_seconds_of_silence_closes_the_connection(world: IacWorld) -> None:
    app = await world.application()
    await world.register("a", app)
    ws = await world.workspace(app)
    async with world.raw_agent("a", app) as agent:
        task_id = await world.task(ws, "plan")
        assert await run_task_id(agent) == task_id
        world.clock.advance(59)
        await agent.heartbeat(plans=1, tasks=[task_id])  # a heartbeat resets the window
        await world.wait_for(lambda: agent.http.get("/api/v1/agents/a/cc-status"), plan_running=1)
        world.clock.advance(59)
        await agent.nothing_within(0.2)
        world.clock.advance(2)
        with pytest.raises(ConnectionClosed) as closed:
            await agent.receive()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
        job = await world.wait_job(task_id, JobStatus.PENDING)
        assert job.attempts == 1
        cc = await agent.http.get("/api/v1/agents/a/cc-status")
        assert (cc.status_code, cc.json()) == (404, {"error": "agent a not connected"})
        agents = (await world.http.get("/api/v1/admin/agents")).json()["agents"]
        assert [(x["agent_id"], x["connected"]) for x in agents] == [("a", False)]


async def test_a_task_the_agent_stops_listing_goes_back_to_the_queue(world: IacWorld) -> None:
    """A heartbeat renews only the tasks it lists: an agent that restarted behind a replaced connection and
    forgot its task does not keep it forever."""
    app = await world.application()
    await world.register("a", app)
    ws = await world.workspace(app)
    async with world.raw_agent("a", app) as agent:
        task_id = await world.task(ws, "plan")
        assert await run_task_id(agent) == task_id
        assert (await agent.status(task_id, "running")).status_code == 200
        cc = lambda: agent.http.get("/api/v1/agents/a/cc-status")  # noqa: E731
        for step in range(4):
            world.clock.advance(50)
            await agent.heartbeat(plans=step % 2)  # lists no task
            await world.wait_for(cc, plan_running=step % 2)
        assert await run_task_id(agent) == task_id  # the lease ran out: requeued and pushed again
        assert (await world.view(task_id))["attempts"] == 1
        # Listing it keeps it, however long it runs.
        assert (await agent.status(task_id, "running")).status_code == 200
        for step in range(5):
            world.clock.advance(50)
            await agent.heartbeat(plans=1 + step % 2, tasks=[task_id])
            await world.wait_for(cc, plan_running=1 + step % 2, current_tasks=[task_id])
        view = await world.view(task_id)
        assert (view["status"], view["attempts"]) == ("running", 1)
