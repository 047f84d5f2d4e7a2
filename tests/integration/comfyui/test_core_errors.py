"""Every core error reaches the ComfyUI wire as `{"detail": "AGENT_..."}` with a 4xx or 503, never a 500:
raised from under a real route of the real app, answered over a real socket. Plus the HTTP-level errors,
which carry a readable `message`."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from agenthub.core.errors import (
    CORE_ERRORS,
    Conflict,
    EngineError,
    InvalidTransition,
    InvalidValue,
    JobNotFound,
    LeaseMismatch,
    StorageUnavailable,
)
from agenthub.core.jobs import Job, LeaseRef
from agenthub.protocols.comfyui.error_format import ERRORS
from tests.integration.comfyui.conftest import ComfyWorld, bearer

# Each core error, and what the ComfyUI wire says for it.
EXPECTED: list[tuple[EngineError, int, str]] = [
    (JobNotFound(7), 404, "AGENT_TASK_NOT_FOUND"),
    (LeaseMismatch(7, "gpu-1"), 403, "AGENT_TASK_FORBIDDEN"),
    (InvalidTransition(7, "success", "complete"), 409, "AGENT_TASK_FINISHED"),
    (Conflict("duplicate key"), 409, "AGENT_CONFLICT"),
    (StorageUnavailable("database unreachable"), 503, "AGENT_UNAVAILABLE"),
    (InvalidValue("integer out of range: 9223372036854775808"), 400, "AGENT_REQUEST_INVALID"),
]


def test_the_table_maps_every_core_error() -> None:
    assert ERRORS.missing_core_errors() == []
    assert {type(error) for error, _, _ in EXPECTED} == set(CORE_ERRORS)


def raising(error: EngineError) -> Any:
    async def fail(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise error

    return fail


async def test_core_errors_reach_the_wire(world: ComfyWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.agent("gpu-1")
    token = await world.agent_token("gpu-1")
    for error, status, code in EXPECTED:
        # an operator route (the task view) and an agent route (the heartbeat), each failing deep inside
        monkeypatch.setattr(world.context.tasks, "task", raising(error))
        monkeypatch.setattr(world.context.agents, "heard_from", raising(error))
        r = await world.http.get(
            "/api/agent/operator/tasks/agt_20260101_000000_deadbeef", headers=world.admin
        )
        assert (r.status_code, r.json()["detail"]) == (status, code), type(error).__name__
        r = await world.http.post("/api/agent/agents/gpu-1/heartbeat", json={}, headers=bearer(token))
        assert (r.status_code, r.json()["detail"]) == (status, code), type(error).__name__


async def test_a_lease_lost_meanwhile_is_forbidden(
    world: ComfyWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push loop takes the task back (its push timed out) between the receipt's checks and the engine's
    write: the engine refuses the write with LeaseMismatch, and the agent gets the seed's 403."""
    await world.agent()
    task_id, token, _, _ = await world.leased_task()
    checked = world.context.tasks.receipt_task

    async def then_taken_back(**kwargs: Any) -> Job:
        job = await checked(**kwargs)
        await world.runtime.engine.release(job.id, LeaseRef("gpu-1"), reason="push timed out")
        return job

    monkeypatch.setattr(world.context.tasks, "receipt_task", then_taken_back)
    r = await world.http.post(f"/api/agent/tasks/{task_id}/events", json={}, headers=bearer(token))
    assert (r.status_code, r.json()) == (403, {"detail": "AGENT_TASK_FORBIDDEN"})
    assert (await world.task_view(task_id))["status"] == "pending"


async def test_http_errors_say_what_was_wrong(world: ComfyWorld) -> None:
    r = await world.http.get("/api/agent/nowhere")
    assert r.status_code == 404 and r.json()["detail"] == "AGENT_ROUTE_NOT_FOUND" and r.json()["message"]
    r = await world.http.delete("/api/agent/auth/verify")
    assert r.status_code == 405 and r.json()["detail"] == "AGENT_METHOD_NOT_ALLOWED" and r.json()["message"]
    # A body nested too deep for the JSON parser: an answer that says what is wrong.
    deep = b"[" * 100_000 + b"]" * 100_000
    r = await world.http.post(
        "/api/agent/auth/verify", content=deep, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.json() == {"detail": "AGENT_REQUEST_INVALID", "message": "body: JSON nested too deeply to read"}
