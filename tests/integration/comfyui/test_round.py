"""End to end over real sockets: the platform pushes a task to a real SDK agent, which verifies it, pulls the
manifest, syncs models (local HTTP server) and plugins/workflows (local git repositories), and reports."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agenthub.sdk.comfyui import AgentConfig, ComfyuiAgent
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.integration.comfyui.conftest import ComfyWorld, comfyui_settings
from tests.integration.comfyui.fixtures import ModelServer, git_repo, model_server

MODELS = {"sdxl.safetensors": b"sdxl-weights-" * 5000, "vae.pt": b"vae" * 1000}


@pytest.fixture
def settings(database_url: str) -> Settings:
    base = make_settings(database_url)
    base.protocols["comfyui"] = comfyui_settings(push_interval_seconds=0.05)
    return base


@pytest.fixture
def models() -> Any:
    with model_server(MODELS) as server:
        yield server


async def start_agent(world: ComfyWorld, root: Path, agent_id: str = "gpu-1", **config: Any) -> ComfyuiAgent:
    token = await world.agent_token(agent_id)
    return ComfyuiAgent(
        AgentConfig(
            agent_id=agent_id,
            platform_url=str(world.http.base_url),
            comfy_root=root,
            agent_token=token,
            port=0,
            heartbeat_interval=3600,
            **config,
        )
    )


@pytest.fixture
async def agent(world: ComfyWorld, tmp_path: Path) -> AsyncIterator[ComfyuiAgent]:
    await world.agent("gpu-1", base_url="http://127.0.0.1:9")
    async with await start_agent(world, tmp_path / "ComfyUI", disk_alert_threshold=0.0) as running:
        r = await world.http.patch(
            "/api/agent/operator/agents/gpu-1", json={"base_url": running.url}, headers=world.admin
        )
        assert r.status_code == 200, r.text
        yield running


async def until_status(
    world: ComfyWorld, task_id: str, *statuses: str, timeout: float = 20
) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            view = await world.task_view(task_id)
            if view["status"] in statuses:
                return view
            await asyncio.sleep(0.05)


def head_of(path: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True
    ).stdout.strip()


async def test_task_is_pushed_verified_synced_and_reported(
    world: ComfyWorld, agent: ComfyuiAgent, models: ModelServer, tmp_path: Path
) -> None:
    plugin_commit = git_repo(tmp_path / "repos" / "impact", {"__init__.py": "NODE_CLASS_MAPPINGS = {}\n"})
    workflow_commit = git_repo(tmp_path / "repos" / "flows", {"txt2img.json": "{}"})
    content = {
        "comfyui": {},
        "models": [
            models.item("sdxl.safetensors", dest_path="models/checkpoints/sdxl.safetensors"),
            models.item("vae.pt"),
        ],
        "plugins": [{"name": "impact", "repo": str(tmp_path / "repos" / "impact"), "commit": plugin_commit}],
        "workflows": [
            {"name": "flows", "repo": str(tmp_path / "repos" / "flows"), "commit": workflow_commit}
        ],
    }
    manifest = await world.manifest(content)
    created = await world.task("gpu-1", manifest["id"])
    assert created["id"].startswith("agt_") and created["status"] == "pending"

    view = await until_status(world, created["id"], "success", "failed")
    assert view["status"] == "success", view
    root = agent.config.comfy_root
    assert (root / "models/checkpoints/sdxl.safetensors").read_bytes() == MODELS["sdxl.safetensors"]
    assert (root / "models/vae.pt").read_bytes() == MODELS["vae.pt"]
    assert head_of(root / "custom_nodes/impact") == plugin_commit
    assert head_of(root / "user/default/workflows/flows") == workflow_commit
    assert view["result"]["synced"] == ["plugins", "workflows", "models"]
    steps = [e["payload"].get("step") for e in view["events"]]
    assert steps[:2] == ["verify", "manifest"] and "models" in steps
    assert all(e["taskId"] == created["id"] for e in view["events"])
    assert max(e["payload"].get("progress", 0) for e in view["events"]) == 99
    engine_types = [e["type"] for e in view["engine_events"]]
    assert engine_types[:3] == ["created", "leased", "start"] and engine_types[-1] == "success"

    # heartbeats carry real figures and become the agent's latest metrics; a full disk raises disk_low
    answer = await agent.heartbeat_once()
    assert answer["status"] == "ok" and answer["agentId"] == "gpu-1"
    seen = (await world.http.get("/api/agent/operator/agents/gpu-1", headers=world.admin)).json()
    assert seen["online"] is True
    assert 0 <= seen["metrics"]["cpu"] <= 100 and seen["metrics"]["disk_free_gb"] > 0
    assert seen["metrics"]["gpu"]["available"] in (True, False)
    assert [a["type"] for a in seen["alerts"]] == ["disk_low"]

    # a second task with the same manifest finds everything in place
    again = await world.task("gpu-1", manifest["id"])
    assert (await until_status(world, again["id"], "success", "failed"))["status"] == "success"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_checksum_mismatch_fails_the_task_naming_the_model(
    world: ComfyWorld, agent: ComfyuiAgent, models: ModelServer
) -> None:
    content = {"models": [models.item("vae.pt"), models.item("sdxl.safetensors", sha256="ab" * 32)]}
    manifest = await world.manifest(content)
    task = await world.task("gpu-1", manifest["id"])
    view = await until_status(world, task["id"], "success", "failed")
    assert view["status"] == "failed"
    assert view["error_code"] == "CHECKSUM_MISMATCH"
    assert view["result"]["failed_items"] == {"models": ["sdxl.safetensors"], "plugins": [], "workflows": []}
    assert "sdxl.safetensors" in view["message"]
    assert not (agent.config.comfy_root / "models/sdxl.safetensors").exists()
    # a receipt for a finished task is refused
    token, _ = await world.task_token(task["id"])
    r = await world.http.post(
        f"/api/agent/tasks/{task['id']}/complete", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert (r.status_code, r.json()["detail"]) == (409, "AGENT_TASK_FINISHED")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_partial_download_is_resumed_with_a_range_request(
    world: ComfyWorld, agent: ComfyuiAgent, models: ModelServer
) -> None:
    data = MODELS["sdxl.safetensors"]
    part = agent.config.comfy_root / "models" / "sdxl.safetensors.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:20000])
    manifest = await world.manifest({"models": [models.item("sdxl.safetensors")]})
    task = await world.task("gpu-1", manifest["id"])
    assert (await until_status(world, task["id"], "success", "failed"))["status"] == "success"
    assert models.ranges == ["bytes=20000-"]
    final = agent.config.comfy_root / "models" / "sdxl.safetensors"
    assert hashlib.sha256(final.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert not part.exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_task_for_a_down_agent_stays_pending_and_is_pushed_later(
    world: ComfyWorld, models: ModelServer, tmp_path: Path
) -> None:
    await world.agent("gpu-1", base_url=f"http://127.0.0.1:{free_port()}")
    manifest = await world.manifest({"models": [models.item("vae.pt")]})
    task = await world.task("gpu-1", manifest["id"])
    assert task["status"] == "pending"
    await world.context.pusher.settled()  # the push creating the task set off found nobody
    assert (await world.task_view(task["id"]))["pushes"] == 1
    async with await start_agent(world, tmp_path / "ComfyUI") as running:
        await world.http.patch(
            "/api/agent/operator/agents/gpu-1", json={"base_url": running.url}, headers=world.admin
        )
        await asyncio.sleep(0.2)  # the push loop runs, but the retry is not due yet
        assert (await world.task_view(task["id"]))["status"] == "pending"
        world.clock.advance(world.context.settings.push_retry_seconds + 1)
        view = await until_status(world, task["id"], "success", "failed")
    assert view["status"] == "success" and view["pushes"] == 2
