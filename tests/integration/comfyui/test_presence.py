"""Agent presence is the engine's: a heartbeat is a sighting of the agent's node, and the operator's views
read online and last seen back from the engine, with the kind's own silence window."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.core.nodes import NodeStatus
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.integration.comfyui.conftest import ComfyWorld, bearer, comfyui_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    base = make_settings(database_url)
    base.protocols["comfyui"] = comfyui_settings(agent_silence_seconds=45)
    return base


async def node_status(world: ComfyWorld) -> NodeStatus:
    node = await world.runtime.engine.node("comfyui", "gpu-1")
    assert node is not None
    return node.status


async def views(world: ComfyWorld) -> dict[str, dict[str, Any]]:
    r = await world.http.get("/api/agent/operator/agents", headers=world.admin)
    assert r.status_code == 200, r.text
    return {item["agentId"]: item for item in r.json()["items"]}


async def test_online_and_last_seen_come_from_the_engine(world: ComfyWorld) -> None:
    registered = await world.agent("gpu-1")
    await world.agent("gpu-2")
    assert registered["online"] is False and registered["last_heartbeat_at"] is None
    token = await world.agent_token("gpu-1")
    r = await world.http.post("/api/agent/agents/gpu-1/heartbeat", json={}, headers=bearer(token))
    received = r.json()["receivedAt"]
    node = await world.runtime.engine.node("comfyui", "gpu-1")
    assert node is not None and world.runtime.engine.is_online(node)

    seen = await views(world)
    assert (seen["gpu-1"]["online"], seen["gpu-1"]["last_heartbeat_at"]) == (True, received)
    assert (seen["gpu-2"]["online"], seen["gpu-2"]["last_heartbeat_at"]) == (False, None)

    world.clock.advance(45)  # the window is inclusive
    one = (await world.http.get("/api/agent/operator/agents/gpu-1", headers=world.admin)).json()
    assert one["online"] is True
    # the engine's presence marking agrees, with the kind's window rather than its default (the presence
    # loop runs beside the test, so it may be the one that marks the node: only the outcome is asserted)
    assert await world.runtime.engine.mark_silent_nodes_offline() == []
    assert await node_status(world) is NodeStatus.ONLINE
    world.clock.advance(1)
    one = (await world.http.get("/api/agent/operator/agents/gpu-1", headers=world.admin)).json()
    assert (one["online"], one["last_heartbeat_at"]) == (False, received)
    gone = await world.runtime.engine.mark_silent_nodes_offline()
    assert [(n.kind, n.node_id) for n in gone] in ([], [("comfyui", "gpu-1")])
    assert await node_status(world) is NodeStatus.OFFLINE
