"""What the protocols' console hooks add over the API: devices progress as logs, ComfyUI "unreachable since"
and metrics as load, IaC apply slots and "the only agent is running an apply"."""

from __future__ import annotations

import asyncio

import httpx

from agenthub.core.clock import ManualClock
from agenthub.core.jobs import LeaseRef, NewJob
from agenthub.protocols.comfyui.spec import SPEC as COMFYUI
from agenthub.protocols.iac.channels import AGENT_KIND, TASK_KIND
from agenthub.server.runner import Listeners
from agenthub.server.runtime import Runtime
from tests.integration.console.conftest import LEASE, node


async def test_device_progress_is_the_jobs_log(runtime: Runtime, operator: httpx.AsyncClient) -> None:
    await node(runtime, "devices", "phone-1")
    job = await runtime.engine.submit(NewJob(kind="devices.task", type="DELIST"))
    assert job is not None
    await runtime.engine.lease_one(job.id, node_id="phone-1", lease_for=LEASE)
    await runtime.engine.progress(job.id, LeaseRef("phone-1"), percent=50, message="下架一半")
    await runtime.engine.complete(job.id, LeaseRef("phone-1"), message="下架完成")
    logs = (await operator.get(f"/api/jobs/{job.id}")).json()["logs"]
    assert [(line["level"], line["message"]) for line in logs] == [
        ("progress", "50% 下架一半"),
        ("success", "下架完成"),
    ]


async def test_a_comfyui_task_for_an_unreachable_agent_says_since_when(
    runtime: Runtime, served: Listeners, operator: httpx.AsyncClient, clock: ManualClock
) -> None:
    admin = {"X-Admin-Key": COMFYUI.state_of(runtime).admin_key}
    async with httpx.AsyncClient(base_url=served.urls["comfyui"] + "/api/agent/operator") as comfy:
        agent = {"agent_id": "gpu-9", "base_url": "http://127.0.0.1:9"}  # nothing listens there
        assert (await comfy.post("/agents", json=agent, headers=admin)).status_code == 201
        manifest = {"name": "m", "role": "full", "version": "v1", "content": {}}
        manifest_id = (await comfy.post("/manifests", json=manifest, headers=admin)).json()["id"]
        async with runtime.bus.subscribe("jobs.comfyui.task") as announcements:
            body = {"agent_id": "gpu-9", "manifest_id": manifest_id}
            task = await comfy.post("/tasks", json=body, headers=admin)
            assert task.status_code == 201, task.text
            async with asyncio.timeout(10):  # the push loop tries it, and takes it back
                while True:
                    item = await announcements.get()
                    if item is not None and item[1]["event"] == "timeout_requeued":
                        break
    [job] = (await operator.get("/api/jobs", params={"q": task.json()["id"]})).json()["jobs"]
    texts = [r["text"] for r in (await operator.get(f"/api/jobs/{job['id']}/why")).json()["reasons"]]
    assert texts[-1] == "ComfyUI agent gpu-9 unreachable since 2026-03-02T04:00:00+00:00"
    assert "its agent gpu-9 is offline (none has ever connected)" in texts


async def test_the_fleet_shows_comfyui_metrics_as_load(
    runtime: Runtime, served: Listeners, operator: httpx.AsyncClient
) -> None:
    context = COMFYUI.state_of(runtime)
    await context.agents.register(agent_id="gpu-3", base_url="http://127.0.0.1:9", allowed=True)
    await context.repo.update_agent("gpu-3", now=runtime.clock.now(), metrics={"gpu": 41, "vram_gb": 7.5})
    await node(runtime, "comfyui", "gpu-3")
    [gpu] = (await operator.get("/api/fleet", params={"protocol": "comfyui"})).json()["nodes"]
    assert gpu["load"] == "gpu 41, vram_gb 7.5"


async def test_iac_the_only_agent_is_running_an_apply(runtime: Runtime, operator: httpx.AsyncClient) -> None:
    await node(runtime, AGENT_KIND, "tf-1", owner=5)
    running = await runtime.engine.submit(NewJob(kind=TASK_KIND, type="apply", owner_id=5, subject_id=1))
    waiting = await runtime.engine.submit(NewJob(kind=TASK_KIND, type="plan", owner_id=5, subject_id=2))
    assert running is not None and waiting is not None
    await runtime.engine.lease_one(running.id, node_id="tf-1", lease_for=LEASE)
    texts = [r["text"] for r in (await operator.get(f"/api/jobs/{waiting.id}/why")).json()["reasons"]]
    assert texts == ["the only agent of its application is running an apply"]
    [agent] = (await operator.get("/api/fleet", params={"protocol": "iac"})).json()["nodes"]
    assert agent["load"] == "plans 0/?, apply 1/1"
