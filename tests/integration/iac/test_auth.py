"""Every authentication failure, on REST and on the C&C upgrade, and the operator's admin key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.integration.iac.conftest import IacWorld


async def _setup(world: IacWorld) -> tuple[dict[str, Any], dict[str, Any], int]:
    app = await world.application("one")
    other = await world.application("two")
    await world.register("agent-1", app)
    await world.register("agent-2", other)
    ws = await world.workspace(app)
    task_id = await world.leased(ws, "agent-1")
    return app, other, task_id


async def test_rest_auth_failures(world: IacWorld) -> None:
    app, other, task_id = await _setup(world)
    path = f"/api/v1/agents/tasks/{task_id}/data"
    good = {"X-App-Key": app["app_key"], "X-App-Secret": app["app_secret"], "X-Agent-ID": "agent-1"}
    cases: list[tuple[dict[str, str], int, str]] = [
        ({}, 401, "missing application credentials"),
        ({"X-App-Key": app["app_key"]}, 401, "missing application credentials"),
        ({"X-App-Secret": app["app_secret"]}, 401, "missing application credentials"),
        ({**good, "X-App-Secret": "wrong"}, 401, "invalid application credentials"),
        ({**good, "X-App-Key": "ak-unknown"}, 401, "invalid application credentials"),
        ({**good, "X-App-Secret": other["app_secret"]}, 401, "invalid application credentials"),
        ({**good, "X-Agent-ID": "agent-2"}, 403, "agent not found or does not belong to this application"),
        ({**good, "X-Agent-ID": "ghost"}, 403, "agent not found or does not belong to this application"),
        (
            {"X-App-Key": app["app_key"], "X-App-Secret": app["app_secret"]},
            401,
            "missing agent id",
        ),
    ]
    async with httpx.AsyncClient(base_url=world.url) as http:
        for headers, status, error in cases:
            r = await http.get(path, headers=headers)
            assert (r.status_code, r.json()) == (status, {"error": error}), headers
        for method, what in (("POST", "logs/chunk"), ("PUT", "status"), ("POST", "state")):
            r = await http.request(method, f"/api/v1/agents/tasks/{task_id}/{what}", json={})
            assert (r.status_code, r.json()) == (401, {"error": "missing application credentials"})
        assert (await http.get(path, headers=good)).status_code == 200
        # The path's agent id speaks for the agent on cc-status.
        creds = {"X-App-Key": app["app_key"], "X-App-Secret": app["app_secret"]}
        r = await http.get("/api/v1/agents/agent-2/cc-status", headers=creds)
        assert r.status_code == 403
        r = await http.get("/api/v1/agents/agent-1/cc-status", headers=creds)
        assert (r.status_code, r.json()) == (404, {"error": "agent agent-1 not connected"})


async def test_control_upgrade_failures(world: IacWorld) -> None:
    app, _other, _ = await _setup(world)
    base = world.url.replace("http://", "ws://") + "/api/v1/agents/control"
    creds = {"X-App-Key": app["app_key"], "X-App-Secret": app["app_secret"]}
    cases: list[tuple[str, dict[str, str], int, str]] = [
        ("?agent_id=agent-1", {}, 401, "missing application credentials"),
        ("?agent_id=agent-1", {**creds, "X-App-Secret": "nope"}, 401, "invalid application credentials"),
        ("", creds, 400, "agent_id is required"),
        ("?agent_id=ghost", creds, 404, "agent not found"),
        ("?agent_id=agent-2", creds, 403, "agent not found or does not belong to this application"),
    ]
    for query, headers, status, error in cases:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(base + query, additional_headers=headers):
                pass
        response = refused.value.response
        assert response.status_code == status, (query, headers)
        assert error in response.body.decode()
    async with connect(base + "?agent_id=agent-1", additional_headers=creds) as ws:
        await ws.send('{"type": "heartbeat", "payload": {"plan_limit": 2}}')
        await ws.send("not json")  # ignored, as unknown types are
        await ws.send('{"type": "mystery", "payload": 5}')
        await ws.send('{"type": "heartbeat", "payload": {"plan_limit": 2, "plan_running": 1}}')
        async with httpx.AsyncClient(base_url=world.url, headers=creds) as http:
            r = await world.wait_for(lambda: http.get("/api/v1/agents/agent-1/cc-status"), plan_running=1)
        body = r.json()
        assert (body["agent_id"], body["connected"]) == ("agent-1", True)
        assert body["status"]["plan_limit"] == 2 and body["last_ping_at"]


async def test_operator_endpoints_need_the_admin_key(world: IacWorld) -> None:
    async with httpx.AsyncClient(base_url=world.url) as http:
        for method, path in (
            ("POST", "/api/v1/admin/applications"),
            ("GET", "/api/v1/admin/agents"),
            ("GET", "/api/v1/admin/tasks/1"),
            ("POST", "/api/v1/admin/tasks/1/cancel"),
        ):
            r = await http.request(method, path, json={"name": "x"})
            assert (r.status_code, r.json()) == (401, {"error": "admin key required"})
            r = await http.request(method, path, json={"name": "x"}, headers={"X-Admin-Key": "wrong"})
            assert r.status_code == 401
        with pytest.raises(InvalidStatus) as refused:
            async with connect(world.url.replace("http://", "ws://") + "/api/v1/admin/tasks/1/logs/ws"):
                pass
        assert refused.value.response.status_code == 401


async def test_admin_key_is_required_in_production_and_generated_in_development(sqlite_url: str) -> None:
    from agenthub.protocols.iac.context import open_state
    from agenthub.server.runtime import ConfigurationError
    from agenthub.server.settings import ServerSettings
    from agenthub.server.startup import open_runtime
    from tests.integration.iac.conftest import iac_settings, settings_for

    settings = settings_for(sqlite_url)
    async with open_runtime(settings) as runtime:
        first = await open_state(runtime, iac_settings(admin_key=None))
        second = await open_state(runtime, iac_settings(admin_key=None))
        assert len(first.admin_key) > 30 and first.admin_key == second.admin_key  # kept: replicas agree
        runtime.settings.server = ServerSettings(env="production", log_level="warning")
        with pytest.raises(ConfigurationError, match="AGENTHUB_IAC_ADMIN_KEY"):
            await open_state(runtime, iac_settings(admin_key=None))
        assert (await open_state(runtime, iac_settings(admin_key="set"))).admin_key == "set"


def test_the_agent_command_is_registered() -> None:
    import argparse

    from agenthub.protocols.iac.spec import SPEC

    assert SPEC.agent is not None
    parser = argparse.ArgumentParser()
    SPEC.agent.configure(parser)
    args = parser.parse_args(["--agent-id", "r1", "--app-key", "k", "--app-secret", "s", "--plan-limit", "2"])
    assert (args.agent_id, args.plan_limit, args.server) == ("r1", 2, "http://127.0.0.1:8080")
    assert SPEC.agent.run(parser.parse_args(["--agent-id", "r1", "--app-key", "", "--app-secret", ""])) == 2
