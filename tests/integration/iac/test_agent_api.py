"""The seed's agent REST API on its own: log chunks (resumable, deduplicated, gap- and checksum-checked,
and the original agent's append style), status transitions, state versions under concurrency."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.integration.iac.conftest import IacWorld


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Leased:
    world: IacWorld
    http: httpx.AsyncClient
    workspace_id: str
    task_id: int
    app: dict[str, Any]

    async def another(self) -> Leased:
        """A fresh workspace and task held by the same agent (scenarios share one server)."""
        ws = await self.world.workspace(self.app, name="another")
        return Leased(self.world, self.http, ws, await self.world.leased(ws, "agent-1", "apply"), self.app)

    def path(self, what: str) -> str:
        return f"/api/v1/agents/tasks/{self.task_id}/{what}"

    async def chunk(
        self, content: str, offset: int = 0, checksum: str | None = "auto", phase: str = "plan"
    ) -> Any:
        body: dict[str, Any] = {"phase": phase, "content": content, "offset": offset}
        if checksum is not None:
            body["checksum"] = sha(content) if checksum == "auto" else checksum
        return await self.http.post(self.path("logs/chunk"), json=body)


@pytest.fixture
async def leased(world: IacWorld) -> AsyncIterator[Leased]:
    app = await world.application()
    await world.register("agent-1", app)
    ws = await world.workspace(app)
    task_id = await world.leased(ws, "agent-1", "apply")
    async with world.agent_http("agent-1", app) as http:
        yield Leased(world, http, ws, task_id, app)


async def check_log_chunks_resume_dedupe_and_refuse_gaps(leased: Leased) -> None:
    r = await leased.chunk("héllo ", 0)
    assert (r.status_code, r.json()) == (200, {"status": "ok", "next_offset": 7, "saved_bytes": 7})
    again = await leased.chunk("héllo ", 0)  # the answer was lost: sent again at the same offset
    assert again.json() == {"status": "ok", "next_offset": 7, "saved_bytes": 0}
    overlapping = await leased.chunk("héllo world", 0)  # stored prefix + new bytes: only the new ones kept
    assert overlapping.json() == {"status": "ok", "next_offset": 12, "saved_bytes": 5}
    gap = await leased.chunk("!", 20)
    assert (gap.status_code, gap.json()["next_offset"]) == (409, 12)
    assert "error" in gap.json()
    conflict = await leased.chunk("HELLO", 0)
    assert (conflict.status_code, conflict.json()["next_offset"]) == (409, 12)
    bad = await leased.chunk("!", 12, checksum="0" * 64)
    assert (bad.status_code, bad.json()) == (400, {"error": "checksum mismatch"})
    # The original agent: offset 0 and no checksum on every chunk, meaning "append".
    for piece in ("\nline 2", "\nline 3"):
        r = await leased.chunk(piece, 0, checksum=None)
        assert r.status_code == 200
    assert r.json()["next_offset"] == 26
    r = await leased.chunk("\nline 4", 0, checksum="")
    assert r.json() == {"status": "ok", "next_offset": 33, "saved_bytes": 7}
    await leased.chunk("apply log", 0, phase="apply")
    await leased.chunk("init log\n", 0, phase="init")
    view = await leased.world.view(leased.task_id)
    assert view["plan_output"] == "init log\nhéllo world\nline 2\nline 3\nline 4"
    assert view["apply_output"] == "apply log"
    unknown = await leased.chunk("x", 0, phase="destroy")
    assert unknown.status_code == 400 and unknown.json()["error"].startswith("invalid request body")


async def check_concurrent_chunks_never_overlap(leased: Leased) -> None:
    pieces = [f"[{i:03d}]" for i in range(40)]
    answers = await asyncio.gather(*(leased.chunk(p, 0, checksum=None) for p in pieces))
    assert all(a.status_code == 200 for a in answers)
    assert sorted(a.json()["next_offset"] for a in answers) == [5 * (i + 1) for i in range(40)]
    output = (await leased.world.view(leased.task_id))["plan_output"]
    assert sorted(output[i : i + 5] for i in range(0, 200, 5)) == pieces


async def check_status_moves_and_completed_at(leased: Leased) -> None:
    path = leased.path("status")
    r = await leased.http.put(path, json={"status": "running", "stage": "init"})
    assert r.json() == {"message": "task status updated", "task_id": leased.task_id, "status": "running"}
    for stage in ("planning", "applying", "saving_state"):
        assert (await leased.http.put(path, json={"status": "running", "stage": stage})).status_code == 200
    assert (await leased.http.put(path, json={"status": "apply_pending"})).status_code == 200
    bad = await leased.http.put(path, json={"status": "exploded"})
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid status: exploded"})
    bad_stage = await leased.http.put(path, json={"status": "running", "stage": "dancing"})
    assert bad_stage.status_code == 400
    back = await leased.http.put(path, json={"status": "pending"})
    assert back.status_code == 409 and back.json()["current_status"] == "apply_pending"
    done = {
        "status": "applied",
        "stage": "completed",
        "changes_add": 3,
        "changes_change": 1,
        "changes_destroy": 0,
        "duration": 45,
    }
    assert (await leased.http.put(path, json=done)).status_code == 200
    view = await leased.world.view(leased.task_id)
    assert (view["status"], view["stage"], view["changes_add"], view["changes_change"]) == (
        "applied",
        "completed",
        3,
        1,
    )
    assert (view["duration"], view["completed_at"] is not None) == (45, True)
    assert (await leased.http.put(path, json=done)).status_code == 200  # the same final status again: fine
    senseless = await leased.http.put(path, json={"status": "running"})
    assert senseless.status_code == 409
    assert senseless.json() == {
        "error": "invalid status transition from applied to running",
        "current_status": "applied",
    }


async def check_cancelled_task_refuses_status_updates(leased: Leased) -> None:
    assert (await leased.world.http.post(f"/api/v1/admin/tasks/{leased.task_id}/cancel")).status_code == 200
    r = await leased.http.put(leased.path("status"), json={"status": "running"})
    assert (r.status_code, r.json()) == (
        409,
        {"error": "task has been cancelled, status update rejected", "current_status": "cancelled"},
    )
    again = await leased.world.http.post(f"/api/v1/admin/tasks/{leased.task_id}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


async def check_state_versions_are_numbered_once_under_concurrency(leased: Leased) -> None:
    texts = [json.dumps({"version": 4, "serial": i, "outputs": {}}) for i in range(25)]

    async def save(text: str) -> httpx.Response:
        body = {"content": text, "checksum": sha(text), "size": len(text.encode())}
        return await leased.http.post(leased.path("state"), json=body)

    answers = await asyncio.gather(*(save(t) for t in texts))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert answers[0].json()["message"] == "state saved successfully"
    assert sorted(a.json()["version"] for a in answers) == list(range(1, 26))
    ws = leased.workspace_id
    listed = (await leased.world.http.get(f"/api/v1/admin/workspaces/{ws}/state-versions")).json()
    assert [v["version"] for v in listed["state_versions"]] == list(range(1, 26))
    current = (await leased.world.http.get(f"/api/v1/admin/workspaces/{ws}")).json()["current_state_version"]
    assert current == 25
    for answer, text in zip(answers, texts, strict=True):
        version = answer.json()["version"]
        stored = (
            await leased.world.http.get(f"/api/v1/admin/workspaces/{ws}/state-versions/{version}")
        ).json()
        assert (stored["content"], stored["checksum"]) == (text, sha(text))


async def check_state_checksum_size_and_object_content(leased: Leased) -> None:
    text = '{"version": 4, "serial": 1}'
    wrong_sum = {"content": text, "checksum": "0" * 64, "size": len(text)}
    r = await leased.http.post(leased.path("state"), json=wrong_sum)
    assert (r.status_code, r.json()) == (400, {"error": "checksum mismatch"})
    wrong_size = {"content": text, "checksum": sha(text), "size": 3}
    assert (await leased.http.post(leased.path("state"), json=wrong_size)).status_code == 400
    zero = {"content": text, "checksum": sha(text), "size": 0}
    assert (await leased.http.post(leased.path("state"), json=zero)).status_code == 400
    # The original agent: the parsed object, with the checksum of the file it read.
    original = {"content": {"version": 4, "serial": 7}, "checksum": "ab" * 32, "size": 1234}
    r = await leased.http.post(leased.path("state"), json=original)
    assert r.json() == {"message": "state saved successfully", "version": 1}
    stored = (
        await leased.world.http.get(f"/api/v1/admin/workspaces/{leased.workspace_id}/state-versions/1")
    ).json()
    assert json.loads(stored["content"]) == {"version": 4, "serial": 7}
    assert stored["checksum"] == sha(stored["content"]) and stored["agent_checksum"] == "ab" * 32
    data = (await leased.http.get(leased.path("data"))).json()
    assert data["state_version"]["version"] == 1 and data["state_version"]["content"]["serial"] == 7


async def check_task_data_has_everything_the_agent_reads(leased: Leased) -> None:
    r = await leased.http.get(leased.path("data"))
    assert r.status_code == 200
    data = r.json()
    task = data["task"]
    assert (task["id"], task["workspace_id"], task["task_type"], task["action"]) == (
        leased.task_id,
        leased.workspace_id,
        "apply",
        "apply",
    )
    assert {"context", "created_at", "plan_task_id", "agent_id"} <= set(task)
    workspace = data["workspace"]
    assert workspace["terraform_version"] == "1.0.3" and "main.tf" in workspace["tf_code"]
    assert {"execution_mode", "provider_config", "system_variables", "name"} <= set(workspace)
    assert data["resources"] == [] and "state_version" not in data
    variables = {v["key"]: v for v in data["variables"]}
    assert variables["count_of"]["value"] == "21"  # the holder gets sensitive values
    assert variables["SOME_ENV"]["category"] == "env"


async def check_task_ids_and_assignment(leased: Leased) -> None:
    world = leased.world
    r = await leased.http.get("/api/v1/agents/tasks/abc/data")
    assert (r.status_code, r.json()) == (400, {"error": "invalid task_id format"})
    r = await leased.http.get("/api/v1/agents/tasks/999999/data")
    assert (r.status_code, r.json()) == (404, {"error": "task not found"})
    r = await leased.http.get(f"/api/v1/agents/tasks/{10**30}/data")
    assert r.status_code == 404
    other = await world.task(leased.workspace_id, "plan")  # pending: no agent holds it
    r = await leased.http.get(f"/api/v1/agents/tasks/{other}/data")
    assert (r.status_code, r.json()) == (403, {"error": "task is not assigned to this agent"})
    assert (await leased.chunk("x", 0)).status_code == 200


async def check_chunks_status_and_cancel_at_once_never_500(leased: Leased) -> None:
    """Writers that lock the task row and writers that lock the job meet here (a deadlock on PostgreSQL
    before log chunks stopped referencing the job)."""
    chunks = [leased.chunk(f"line {i}\n", 0, checksum=None) for i in range(30)]
    statuses = [leased.http.put(leased.path("status"), json={"status": "running"}) for _ in range(10)]
    cancel = leased.world.http.post(f"/api/v1/admin/tasks/{leased.task_id}/cancel")
    answers = await asyncio.gather(*chunks, *statuses, cancel)
    assert all(a.status_code in (200, 409) for a in answers), [(a.status_code, a.text) for a in answers]
    assert (await leased.world.view(leased.task_id))["status"] == "cancelled"


async def test_log_chunks(leased: Leased) -> None:
    await check_log_chunks_resume_dedupe_and_refuse_gaps(leased)
    await check_concurrent_chunks_never_overlap(await leased.another())


async def test_status(leased: Leased) -> None:
    await check_status_moves_and_completed_at(leased)
    await check_cancelled_task_refuses_status_updates(await leased.another())
    await check_chunks_status_and_cancel_at_once_never_500(await leased.another())


async def test_state_versions(leased: Leased) -> None:
    await check_state_versions_are_numbered_once_under_concurrency(leased)
    await check_state_checksum_size_and_object_content(await leased.another())


async def test_task_data_and_ids(leased: Leased) -> None:
    await check_task_data_has_everything_the_agent_reads(leased)
    await check_task_ids_and_assignment(leased)
