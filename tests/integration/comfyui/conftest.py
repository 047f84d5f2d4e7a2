"""A ComfyUI platform on an ephemeral port, and an operator script to set up agents, manifests and tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from agenthub.core.clock import ManualClock
from agenthub.core.jobs import JobFilter, JobStatus
from agenthub.protocols.comfyui.context import ComfyuiContext
from agenthub.protocols.comfyui.kinds import TASK_KIND
from agenthub.protocols.comfyui.settings import ComfyuiSettings
from agenthub.protocols.comfyui.spec import SPEC as COMFYUI
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.support.servers import serving

ADMIN_KEY = "test-admin-key"
KEYS = "k1:first-secret-" + "a" * 32
SHA_ZERO = "0" * 64


def comfyui_settings(**overrides: Any) -> ComfyuiSettings:
    values: dict[str, Any] = {
        "signing_keys": KEYS,
        "admin_key": ADMIN_KEY,
        "debug_tokens": None,
        "push_interval_seconds": 3600,  # tests that want the push loop set it lower
        "push_retry_seconds": 30,
        "push_timeout_seconds": 3,
        **overrides,
    }
    values["AGENT_DEBUG_TOKENS"] = values.pop("debug_tokens")  # read only under the seed's exact name
    return ComfyuiSettings(**values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    base = make_settings(database_url)
    base.protocols["comfyui"] = comfyui_settings(debug_tokens="dbg-token:gpu-1")
    return base


class ComfyWorld:
    """Drives the operator endpoints as an operator would, so tests read as scenarios."""

    def __init__(self, http: httpx.AsyncClient, runtime: Runtime, clock: ManualClock) -> None:
        self.http = http
        self.runtime = runtime
        self.clock = clock
        self.admin = {"X-Admin-Key": ADMIN_KEY}

    @property
    def context(self) -> ComfyuiContext:
        return COMFYUI.state_of(self.runtime)

    async def agent(
        self, agent_id: str = "gpu-1", base_url: str = "http://127.0.0.1:9", **fields: Any
    ) -> dict[str, Any]:
        r = await self.http.post(
            "/api/agent/operator/agents",
            json={"agent_id": agent_id, "base_url": base_url, **fields},
            headers=self.admin,
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def agent_token(self, agent_id: str = "gpu-1", **fields: Any) -> str:
        r = await self.http.post(
            f"/api/agent/operator/agents/{agent_id}/tokens", json=fields, headers=self.admin
        )
        assert r.status_code == 201, r.text
        token: str = r.json()["token"]
        return token

    async def manifest(
        self, content: dict[str, Any] | None = None, *, name: str = "sdxl", version: str = "v1"
    ) -> dict[str, Any]:
        r = await self.http.post(
            "/api/agent/operator/manifests",
            json={"name": name, "role": "full", "version": version, "content": content or {}},
            headers=self.admin,
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def task(self, agent_id: str, manifest_id: int) -> dict[str, Any]:
        r = await self.http.post(
            "/api/agent/operator/tasks",
            json={"agent_id": agent_id, "manifest_id": manifest_id},
            headers=self.admin,
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def task_view(self, task_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/api/agent/operator/tasks/{task_id}", headers=self.admin)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def task_token(self, task_id: str) -> tuple[str, str]:
        """What a push would carry (token, nonce), minted directly: for tests of the refusals."""
        job = await self.context.tasks.task(task_id)
        assert job is not None
        issued = self.context.tasks.task_token(job)
        return issued.token, issued.nonce

    async def leased_task(self, agent_id: str = "gpu-1") -> tuple[str, str, str, int]:
        """A task leased to the agent as if it had taken a push: (task id, token, nonce, manifest id)."""
        manifest = await self.manifest(name=f"m-{agent_id}-{self.clock.now().timestamp()}")
        task = await self.task(agent_id, manifest["id"])
        await self.context.pusher.settled()  # the push that creating the task set off has ended
        agent = await self.context.repo.agent(agent_id)
        assert agent is not None
        job = await self.context.tasks.task(task["id"])
        assert job is not None
        if job.status is JobStatus.PENDING:
            # The push to the (absent) agent failed; take the task the way a later push would.
            self.clock.advance(self.context.settings.push_retry_seconds + 1)
            leased = await self.runtime.engine.lease(
                JobFilter(kind=TASK_KIND, node_id=agent_id),
                node_id=agent_id,
                limit=1,
                lease_for=timedelta(hours=1),
            )
            assert [j.external_id for j in leased] == [task["id"]]
        token, nonce = await self.task_token(task["id"])
        return task["id"], token, nonce, manifest["id"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def comfy_url(runtime: Runtime) -> AsyncIterator[str]:
    async with serving(runtime, "comfyui") as listeners:
        yield listeners.urls["comfyui"]


@pytest.fixture
async def http(comfy_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=comfy_url, timeout=20) as client:
        yield client


@pytest.fixture
def world(http: httpx.AsyncClient, runtime: Runtime, clock: ManualClock) -> ComfyWorld:
    return ComfyWorld(http, runtime, clock)
