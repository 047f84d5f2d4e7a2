"""Every error code of seed 003, each reached by a request that should get it (SQLite: the logic is the
protocol's, and the end-to-end tests cover both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agenthub.protocols.comfyui.tokens import TokenService
from tests.integration.comfyui.conftest import ComfyWorld, bearer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def code(response: object) -> tuple[int, str]:
    return response.status_code, response.json()["detail"]  # type: ignore[attr-defined]


async def test_verify_ok_returns_the_seed_shape(world: ComfyWorld) -> None:
    await world.agent()
    task_id, token, nonce, _ = await world.leased_task()
    r = await world.http.post(
        "/api/agent/auth/verify",
        json={"token": token, "agent_id": "gpu-1", "task_id": task_id, "nonce": nonce},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["agentId"] == "gpu-1" and body["taskId"] == task_id
    assert body["scope"] == "task" and body["policy"] == {"allow": True}
    assert body["expiresAt"].endswith("Z")


async def test_verify_errors(world: ComfyWorld) -> None:
    await world.agent()
    task_id, token, nonce, _ = await world.leased_task()
    verify = "/api/agent/auth/verify"
    assert code(await world.http.post(verify, json={})) == (401, "AGENT_TOKEN_REQUIRED")
    assert code(await world.http.post(verify, json={"token": "not-a-jwt"})) == (401, "AGENT_TOKEN_INVALID")
    foreign = TokenService({"k1": "another-secret-" + "b" * 32}).issue(
        agent_id="gpu-1", task_id=task_id, scope="task", now=world.clock.now(), ttl=timedelta(seconds=60)
    )
    assert code(await world.http.post(verify, json={"token": foreign.token})) == (401, "AGENT_TOKEN_INVALID")
    bad_payload = world.context.tokens.issue(
        agent_id="", task_id=None, scope="agent", now=world.clock.now(), ttl=timedelta(seconds=60)
    )
    assert code(await world.http.post(verify, json={"token": bad_payload.token})) == (
        401,
        "AGENT_TOKEN_PAYLOAD_INVALID",
    )
    for wrong in ({"agent_id": "gpu-2"}, {"task_id": "agt_other"}, {"nonce": "other"}, {"nonce": None}):
        body = {"token": token, "agent_id": "gpu-1", "task_id": task_id, "nonce": nonce, **wrong}
        assert code(await world.http.post(verify, json=body)) == (403, "AGENT_TOKEN_PAYLOAD_MISMATCH")
    ok = {"token": token, "agent_id": "gpu-1", "task_id": task_id, "nonce": nonce}
    # the token's agent disabled, then unknown
    await world.http.post("/api/agent/operator/agents/gpu-1/disable", headers=world.admin)
    assert code(await world.http.post(verify, json=ok)) == (403, "AGENT_NOT_ALLOWED")
    await world.http.post("/api/agent/operator/agents/gpu-1/allow", headers=world.admin)
    ghost = world.context.tokens.issue(
        agent_id="ghost", task_id=None, scope="agent", now=world.clock.now(), ttl=timedelta(seconds=60)
    )
    assert code(await world.http.post(verify, json={"token": ghost.token})) == (404, "AGENT_NOT_FOUND")
    # a task that does not exist, one of another agent
    missing = world.context.tokens.issue(
        agent_id="gpu-1",
        task_id="agt_20260101_000000_deadbeef",
        scope="task",
        now=world.clock.now(),
        ttl=timedelta(seconds=60),
    )
    assert code(await world.http.post(verify, json={"token": missing.token, "nonce": missing.nonce})) == (
        404,
        "AGENT_TASK_NOT_FOUND",
    )
    await world.agent("gpu-2")
    foreign_task = world.context.tokens.issue(
        agent_id="gpu-2", task_id=task_id, scope="task", now=world.clock.now(), ttl=timedelta(seconds=60)
    )
    assert code(
        await world.http.post(verify, json={"token": foreign_task.token, "nonce": foreign_task.nonce})
    ) == (403, "AGENT_TASK_FORBIDDEN")
    assert (await world.http.post(verify, json=ok)).status_code == 200
    # expired token, then an expired task (under a fresh token that outlives it)
    world.clock.advance(601)
    assert code(await world.http.post(verify, json=ok)) == (401, "AGENT_TOKEN_EXPIRED")
    world.clock.advance(3600)
    late = world.context.tokens.issue(
        agent_id="gpu-1", task_id=task_id, scope="task", now=world.clock.now(), ttl=timedelta(seconds=60)
    )
    assert code(await world.http.post(verify, json={"token": late.token, "nonce": late.nonce})) == (
        409,
        "AGENT_TASK_EXPIRED",
    )


async def test_manifest_rules(world: ComfyWorld) -> None:
    await world.agent()
    task_id, token, _, manifest_id = await world.leased_task()
    other = await world.manifest(name="other")
    path = f"/api/agent/manifests/{manifest_id}"
    assert code(await world.http.get(path)) == (401, "AGENT_TOKEN_REQUIRED")
    agent_token = await world.agent_token()
    assert code(await world.http.get(path, headers=bearer(agent_token))) == (403, "AGENT_TOKEN_SCOPE_INVALID")
    missing = "/api/agent/manifests/999999"
    assert code(await world.http.get(missing, headers=bearer(token))) == (404, "AGENT_MANIFEST_NOT_FOUND")
    forbidden = f"/api/agent/manifests/{other['id']}"
    assert code(await world.http.get(forbidden, headers=bearer(token))) == (403, "AGENT_MANIFEST_FORBIDDEN")
    r = await world.http.get(path, headers=bearer(token))
    assert r.status_code == 200
    assert set(r.json()) == {"id", "role", "version", "content"}
    assert set(r.json()["content"]) == {"comfyui", "models", "plugins", "workflows"}
    world.clock.advance(3600)
    late = world.context.tokens.issue(
        agent_id="gpu-1", task_id=task_id, scope="task", now=world.clock.now(), ttl=timedelta(seconds=60)
    )
    assert code(await world.http.get(path, headers=bearer(late.token))) == (409, "AGENT_TASK_EXPIRED")


async def test_task_receipts(world: ComfyWorld) -> None:
    await world.agent()
    task_id, token, _, _ = await world.leased_task()
    second_id, second_token, _, _ = await world.leased_task()
    events = f"/api/agent/tasks/{task_id}/events"
    assert code(await world.http.post(events, json={})) == (401, "AGENT_TOKEN_REQUIRED")
    unknown = "/api/agent/tasks/agt_20260101_000000_deadbeef/events"
    assert code(await world.http.post(unknown, json={}, headers=bearer(token))) == (
        404,
        "AGENT_TASK_NOT_FOUND",
    )
    assert code(await world.http.post(events, json={}, headers=bearer(second_token))) == (
        403,
        "AGENT_TASK_FORBIDDEN",
    )
    agent_token = await world.agent_token()
    assert code(await world.http.post(events, json={}, headers=bearer(agent_token))) == (
        403,
        "AGENT_TOKEN_SCOPE_INVALID",
    )
    assert (await world.task_view(task_id))["status"] == "pending"
    body = {
        "level": "info",
        "step": "models",
        "message": "  " + "x" * 5000,
        "progress": 42,
        "payload": {"n": 1},
    }
    r = await world.http.post(events, json=body, headers=bearer(token))
    assert r.status_code == 200, r.text
    event = r.json()
    assert set(event) == {"id", "taskId", "level", "message", "payload", "created_at"}
    assert event["taskId"] == task_id and event["message"] == "x" * 4096
    assert event["payload"] == {"n": 1, "step": "models", "progress": 42}
    view = await world.task_view(task_id)
    assert view["status"] == "running" and view["progress"] == 42
    complete = f"/api/agent/tasks/{task_id}/complete"
    done = {"summary": "ok", "synced": ["models", "plugins"]}
    r = await world.http.post(complete, json=done, headers=bearer(token))
    assert r.json() == {"id": task_id, "agentId": "gpu-1", "status": "success"}
    assert (await world.http.post(complete, json=done, headers=bearer(token))).status_code == 200
    failed = f"/api/agent/tasks/{task_id}/failed"
    assert code(await world.http.post(failed, json={}, headers=bearer(token))) == (409, "AGENT_TASK_FINISHED")
    assert code(await world.http.post(events, json={}, headers=bearer(token))) == (409, "AGENT_TASK_FINISHED")
    # failed straight from pending-on-the-agent, with the seed's body
    body = {
        "error_code": "DOWNLOAD_FAILED",
        "message": "Download x failed",
        "failed_items": {"models": ["x"]},
    }
    r = await world.http.post(f"/api/agent/tasks/{second_id}/failed", json=body, headers=bearer(second_token))
    assert r.json() == {"id": second_id, "agentId": "gpu-1", "status": "failed"}
    assert (await world.task_view(second_id))["result"]["failed_items"] == {"models": ["x"]}


async def test_receipt_for_an_expired_task_is_refused(world: ComfyWorld) -> None:
    await world.agent()
    task_id, _, _, _ = await world.leased_task()
    world.clock.advance(3600)
    await world.runtime.engine.expire_due()
    assert (await world.task_view(task_id))["status"] == "expired"
    late = world.context.tokens.issue(
        agent_id="gpu-1", task_id=task_id, scope="task", now=world.clock.now(), ttl=timedelta(seconds=60)
    )
    for action in ("events", "complete", "failed"):
        r = await world.http.post(f"/api/agent/tasks/{task_id}/{action}", json={}, headers=bearer(late.token))
        assert code(r) == (409, "AGENT_TASK_EXPIRED")


async def test_heartbeat_and_alerts(world: ComfyWorld) -> None:
    for path, body in (("heartbeat", {"status": "active", "cpu": 35}), ("alerts", {"type": "disk_low"})):
        url = f"/api/agent/agents/gpu-1/{path}"
        assert code(await world.http.post(url, json=body)) == (401, "AGENT_TOKEN_REQUIRED")
        # a debug token (development only) for an agent that is not registered
        assert code(await world.http.post(url, json=body, headers=bearer("dbg-token"))) == (
            404,
            "AGENT_NOT_FOUND",
        )
    await world.agent("gpu-1")
    await world.agent("gpu-2")
    token = await world.agent_token("gpu-1")
    r = await world.http.post("/api/agent/agents/gpu-2/heartbeat", json={}, headers=bearer(token))
    assert code(r) == (403, "AGENT_NOT_ALLOWED")
    r = await world.http.post("/api/agent/agents/gpu-2/alerts", json={"type": "x"}, headers=bearer(token))
    assert code(r) == (403, "AGENT_NOT_ALLOWED")
    seed_body = {
        "status": "active",
        "cpu": 35,
        "mem": 62,
        "disk_free_gb": 120,
        "gpu": {"available": True, "util": 42},
        "metrics": {"cpu": 0.42, "memory": 0.78, "disk": 0.61, "gpu": 0.55},
        "agent_version": "1.2.0",
        "comfyui_version": "abc1234",
    }
    r = await world.http.post("/api/agent/agents/gpu-1/heartbeat", json=seed_body, headers=bearer(token))
    assert r.json() == {"status": "ok", "agentId": "gpu-1", "receivedAt": "2026-03-02T04:00:00Z"}
    alert = {"type": "disk_low", "message": "disk usage 92%", "payload": {"disk": 0.92}}
    r = await world.http.post("/api/agent/agents/gpu-1/alerts", json=alert, headers=bearer("dbg-token"))
    assert r.json() == {"status": "ok"}
    seen = (await world.http.get("/api/agent/operator/agents/gpu-1", headers=world.admin)).json()
    assert seen["metrics"] == seed_body and seen["agent_version"] == "1.2.0"
    assert [(a["type"], a["payload"]) for a in seen["alerts"]] == [("disk_low", {"disk": 0.92})]
    # a task token is accepted too; a disabled agent is not
    _, task_token, _, _ = await world.leased_task()
    r = await world.http.post("/api/agent/agents/gpu-1/heartbeat", json={}, headers=bearer(task_token))
    assert r.status_code == 200
    await world.http.post("/api/agent/operator/agents/gpu-1/disable", headers=world.admin)
    r = await world.http.post("/api/agent/agents/gpu-1/heartbeat", json={}, headers=bearer(token))
    assert code(r) == (403, "AGENT_NOT_ALLOWED")


async def test_validation_limits_operator_key_and_docs(world: ComfyWorld) -> None:
    await world.agent()
    task_id, token, _, _ = await world.leased_task()
    events = f"/api/agent/tasks/{task_id}/events"
    r = await world.http.post(events, json={"progress": 101}, headers=bearer(token))
    assert r.status_code == 400 and r.json()["detail"] == "AGENT_REQUEST_INVALID"
    assert "progress" in r.json()["message"]
    r = await world.http.post(
        events, content=b"{nope", headers={**bearer(token), "content-type": "application/json"}
    )
    assert code(r) == (400, "AGENT_REQUEST_INVALID")
    big = {"message": "x" * (world.context.settings.max_body_bytes + 1)}
    assert code(await world.http.post(events, json=big, headers=bearer(token))) == (
        413,
        "AGENT_BODY_TOO_LARGE",
    )
    assert code(await world.http.get("/api/agent/operator/agents")) == (401, "AGENT_ADMIN_REQUIRED")
    bad = {**world.admin, "X-Admin-Key": "wrong"}
    assert code(await world.http.get("/api/agent/operator/agents", headers=bad)) == (
        401,
        "AGENT_ADMIN_REQUIRED",
    )
    r = await world.http.post(
        "/api/agent/operator/manifests",
        json={
            "name": "evil",
            "version": "1",
            "content": {"models": [{"name": "..", "url": "u", "sha256": "0" * 64, "size": 1}]},
        },
        headers=world.admin,
    )
    assert code(r) == (400, "AGENT_REQUEST_INVALID")
    r = await world.http.get("/api/agent/docs/agent-protocol")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert "POST /api/agent/auth/verify" in r.text and "AGENT_TOKEN_PAYLOAD_MISMATCH" in r.text


async def test_a_task_expires_when_its_time_is_up(world: ComfyWorld) -> None:
    await world.agent()
    manifest = await world.manifest()
    task = await world.task("gpu-1", manifest["id"])
    assert task["status"] == "pending"
    assert task["expiresAt"] == "2026-03-02T05:00:00Z"
    world.clock.advance(3600)
    await world.runtime.engine.expire_due()
    assert (await world.task_view(task["id"]))["status"] == "expired"
    listed = await world.http.get(
        "/api/agent/operator/tasks", params={"status": "expired"}, headers=world.admin
    )
    assert [t["id"] for t in listed.json()["items"]] == [task["id"]]
