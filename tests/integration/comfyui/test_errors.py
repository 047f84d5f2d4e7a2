"""Every error code of seed 003, each reached by a request that should get it (SQLite: the logic is the
protocol's, and the end-to-end tests cover both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agenthub.protocols.comfyui.tokens import TokenService
from tests.integration.comfyui.conftest import ComfyWorld

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
