"""The full round with real Terraform: plan, apply (state v1), apply again (state v2), logs, data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from agenthub.sdk.iac import bundled_terraform
from tests.integration.iac.conftest import IacWorld


async def test_plan_then_apply_with_real_terraform(world: IacWorld) -> None:
    app = await world.application()
    await world.register("agent-1", app)
    ws = await world.workspace(app)
    async with world.real_agent("agent-1", app) as agent:
        plan_id = await world.task(ws, "plan")
        plan = await world.wait_final(plan_id)
        assert agent.finished[0] == (plan_id, "completed")
        assert (plan["status"], plan["stage"], plan["agent_id"]) == ("success", "completed", "agent-1")
        assert "Terraform has been successfully initialized" in plan["plan_output"]
        assert 'greeting = "hello agenthub"' in plan["plan_output"]
        assert plan["completed_at"] is not None and plan["changes_add"] == 0
        versions = (await world.http.get(f"/api/v1/admin/workspaces/{ws}/state-versions")).json()
        assert versions["state_versions"] == []

        first = await world.wait_final(await world.task(ws, "apply"))
        assert first["status"] == "applied" and "Apply complete!" in first["apply_output"]
        second = await world.wait_final(await world.task(ws, "plan_and_apply"))
        assert second["status"] == "applied"

    versions = (await world.http.get(f"/api/v1/admin/workspaces/{ws}/state-versions")).json()[
        "state_versions"
    ]
    assert [v["version"] for v in versions] == [1, 2]
    lineages = set()
    for number in (1, 2):
        r = await world.http.get(f"/api/v1/admin/workspaces/{ws}/state-versions/{number}")
        version = r.json()
        content = version["content"]
        assert version["checksum"] == hashlib.sha256(content.encode()).hexdigest()
        assert version["size"] == len(content.encode())
        state = json.loads(content)
        lineages.add(state["lineage"])
        assert state["outputs"]["greeting"]["value"] == "hello agenthub"
        assert state["outputs"]["doubled"]["value"] == 42  # the sensitive variable reached terraform
    assert len(lineages) == 1  # v2 was made from v1: the agent restored the workspace's current state
    workspace = (await world.http.get(f"/api/v1/admin/workspaces/{ws}")).json()
    assert workspace["current_state_version"] == 2
    sensitive = next(v for v in workspace["variables"] if v["key"] == "count_of")
    assert sensitive["value"] is None  # operators never read a sensitive value back


async def test_the_workspace_version_picks_the_binary(world: IacWorld, tmp_path: Path) -> None:
    app = await world.application()
    await world.register("agent-1", app)
    await world.register("agent-2", app)
    missing = await world.workspace(app, terraform_version="1.8.5")
    async with world.real_agent("agent-1", app):
        task = await world.wait_final(await world.task(missing, "plan"))
    assert task["status"] == "failed"  # no silent fallback to another version
    assert task["error_message"] == "terraform 1.8.5 is not available on this agent (available: 1.0.3)"

    folder = tmp_path / "versions" / "1.0.3"
    folder.mkdir(parents=True)
    binary = bundled_terraform()
    assert binary is not None
    (folder / "terraform").symlink_to(binary)
    ws = await world.workspace(app)
    async with world.real_agent("agent-2", app, terraform=None, versions_dir=folder.parent) as agent:
        assert "1.0.3" in await agent.versions.available()
        task = await world.wait_final(await world.task(ws, "plan"))
    assert task["status"] == "success"
