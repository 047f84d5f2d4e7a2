"""No body, however bad, ends in a 500: wrong types, huge numbers, NUL characters, lone surrogates,
deep nesting, invalid JSON - on every endpoint that reads one, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.integration.iac.conftest import IacWorld

DEEP = "[" * 5000 + "]" * 5000
HUGE = "9" * 5000

RAW_BODIES = [
    b"",
    b"not json",
    b"{",
    DEEP.encode(),
    b'{"a": ' + HUGE.encode() + b"}",
    b"[]",
    b"null",
    b'"text"',
    b'{"phase": "plan", "content": "\\ud800", "offset": 0}',
    b"\xff\xfe",
]


def json_bodies(valid: dict[str, Any]) -> list[Any]:
    bodies: list[Any] = [{}]
    for key in valid:
        for bad in (None, 10**30, -1, 1.5, True, "x\x00y", [], {"deep": [[[[{}]]]]}, "9" * 300):
            bodies.append({**valid, key: bad})
    nested: Any = {}
    for _ in range(100):
        nested = {"n": nested}
    bodies.append({**valid, "context": nested, "content": nested})
    return bodies


async def test_bad_bodies_never_500(world: IacWorld) -> None:
    app = await world.application()
    await world.register("agent-1", app)
    ws = await world.workspace(app)
    task_id = await world.leased(ws, "agent-1", "apply")
    agent = world.agent_http("agent-1", app)
    endpoints: list[tuple[Any, str, str, dict[str, Any]]] = [
        (
            agent,
            "POST",
            f"/api/v1/agents/tasks/{task_id}/logs/chunk",
            {"phase": "plan", "content": "x", "offset": 0},
        ),
        (agent, "PUT", f"/api/v1/agents/tasks/{task_id}/status", {"status": "running", "duration": 1}),
        (
            agent,
            "POST",
            f"/api/v1/agents/tasks/{task_id}/state",
            {"content": "{}", "checksum": "c", "size": 2},
        ),
        (world.http, "POST", "/api/v1/admin/applications", {"name": "n"}),
        (world.http, "POST", "/api/v1/admin/agents", {"agent_id": "a-9", "application_id": app["id"]}),
        (
            world.http,
            "POST",
            "/api/v1/admin/workspaces",
            {
                "name": "w",
                "application_id": app["id"],
                "terraform_version": "1.0.3",
                "tf_code": {"main.tf": ""},
            },
        ),
        (world.http, "POST", f"/api/v1/admin/workspaces/{ws}/tasks", {"task_type": "plan"}),
        (world.http, "POST", f"/api/v1/admin/tasks/{task_id}/realtime-stream", {"enabled": True}),
    ]
    async with agent:
        for client, method, path, valid in endpoints:
            for raw in RAW_BODIES:
                r = await client.request(
                    method, path, content=raw, headers={"Content-Type": "application/json"}
                )
                assert r.status_code < 500 and "error" in r.json(), (path, raw[:40], r.status_code)
            for body in json_bodies(valid):
                r = await client.request(method, path, json=body)
                assert r.status_code < 500 and isinstance(r.json(), dict), (path, body, r.status_code, r.text)
        for path in (
            "/api/v1/admin/tasks/%00",
            "/api/v1/admin/tasks/" + HUGE,
            f"/api/v1/admin/workspaces/{ws}/state-versions/" + HUGE,
            "/api/v1/admin/workspaces/%00/state-versions",
            "/api/v1/admin/workspaces/" + "x" * 3000,
        ):
            r = await world.http.get(path)
            assert r.status_code in (400, 404), (path, r.status_code)
        r = await agent.get(f"/api/v1/agents/tasks/{task_id}/data")
        assert r.status_code == 200  # and the task is still fine
    await bad_ids_in_paths_and_queries_never_500(world)


async def bad_ids_in_paths_and_queries_never_500(world: IacWorld) -> None:
    app = await world.application()
    creds = {"X-App-Key": app["app_key"], "X-App-Secret": app["app_secret"]}
    async with world.agent_http("agent-1", app) as agent:
        for path in (
            "/api/v1/agents/%00/cc-status",
            "/api/v1/agents/%ED%A0%80/cc-status",
            "/api/v1/agents/" + "a" * 500 + "/cc-status",
        ):
            r = await agent.get(path, headers=creds)
            assert r.status_code in (400, 403, 404), (path, r.status_code)
    r = await world.http.post(f"/api/v1/admin/workspaces/{'x' * 300}/tasks", json={"task_type": "plan"})
    assert r.status_code == 404
    r = await world.http.get("/api/v1/admin/tasks/999999")
    assert (r.status_code, r.json()) == (404, {"error": "task not found"})
    r = await world.http.delete("/api/v1/admin/tasks/1")
    assert (r.status_code, r.json()) == (405, {"error": "method not allowed"})
    r = await world.http.get("/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "db": "up", "bus": "up"})
    r = await world.http.get("/nowhere")
    assert (r.status_code, r.json()) == (404, {"error": "not found"})
