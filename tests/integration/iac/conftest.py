"""An IaC platform on an ephemeral port; an operator script; real agents (real Terraform) and scripted raw
C&C agents whose every message the test decides."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from agenthub.core.clock import ManualClock
from agenthub.core.engine import job_channel
from agenthub.core.jobs import Job, JobStatus
from agenthub.protocols.iac.channels import TASK_KIND
from agenthub.protocols.iac.context import IacState
from agenthub.protocols.iac.settings import IacSettings
from agenthub.protocols.iac.spec import SPEC as IAC
from agenthub.sdk.iac import AgentConfig, IacAgent, bundled_terraform
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from agenthub.server.startup import open_runtime
from tests.conftest import make_settings
from tests.support.servers import serving

ADMIN_KEY = "test-admin-key"
TF_VERSION = "1.0.3"
MAIN_TF = """
variable "name" {
  type    = string
  default = "world"
}
variable "count_of" {
  type    = number
  default = 1
}
locals {
  greeting = "hello ${var.name}"
}
output "greeting" {
  value = local.greeting
}
output "doubled" {
  value = var.count_of * 2
}
"""


def iac_settings(**overrides: Any) -> IacSettings:
    values: dict[str, Any] = {
        "port": 0,
        "admin_key": ADMIN_KEY,
        "watchdog_interval_seconds": 0.05,
        "dispatch_fallback_seconds": 1.0,
        **overrides,
    }
    return IacSettings(**values)


def settings_for(database_url: str, **overrides: Any) -> Settings:
    redis_url = overrides.pop("redis_url", None)
    base = make_settings(database_url, redis_url=redis_url)
    base.protocols["iac"] = iac_settings(**overrides)
    return base


@pytest.fixture
def settings(database_url: str) -> Settings:
    return settings_for(database_url)


class IacWorld:
    """Drives the operator endpoints as an operator would, so tests read as scenarios."""

    def __init__(self, url: str, http: httpx.AsyncClient, runtime: Runtime, clock: ManualClock) -> None:
        self.url = url
        self.http = http
        self.runtime = runtime
        self.clock = clock

    @property
    def state(self) -> IacState:
        return IAC.state_of(self.runtime)

    async def application(self, name: str = "app") -> dict[str, Any]:
        r = await self.http.post("/api/v1/admin/applications", json={"name": name})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def register(self, agent_id: str, app: dict[str, Any]) -> None:
        r = await self.http.post(
            "/api/v1/admin/agents", json={"agent_id": agent_id, "application_id": app["id"]}
        )
        assert r.status_code == 201, r.text

    async def workspace(self, app: dict[str, Any], **overrides: Any) -> str:
        body = {
            "name": "demo",
            "application_id": app["id"],
            "terraform_version": TF_VERSION,
            "execution_mode": "agent",
            "tf_code": {"main.tf": MAIN_TF},
            "variables": [
                {"key": "name", "value": "agenthub", "category": "terraform"},
                {"key": "count_of", "value": "21", "category": "terraform", "sensitive": True},
                {"key": "SOME_ENV", "value": "x", "category": "env"},
            ],
            **overrides,
        }
        r = await self.http.post("/api/v1/admin/workspaces", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["workspace_id"])

    async def task(self, workspace_id: str, task_type: str = "plan") -> int:
        r = await self.http.post(
            f"/api/v1/admin/workspaces/{workspace_id}/tasks", json={"task_type": task_type}
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "pending"
        return int(r.json()["id"])

    async def view(self, task_id: int) -> dict[str, Any]:
        r = await self.http.get(f"/api/v1/admin/tasks/{task_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def wait_job(self, task_id: int, *statuses: JobStatus, timeout: float = 20.0) -> Job:
        """Waits (on the engine's own change events) until the task's job is in one of the statuses."""
        engine = self.runtime.engine
        async with self.runtime.bus.subscribe(job_channel(TASK_KIND)) as subscription:
            async with asyncio.timeout(timeout):
                while True:
                    job = await engine.get(task_id)
                    if job.status in statuses:
                        return job
                    await subscription.get(timeout=0.5)

    async def wait_final(self, task_id: int, timeout: float = 20.0) -> dict[str, Any]:
        final = (JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED)
        await self.wait_job(task_id, *final, timeout=timeout)
        return await self.view(task_id)

    async def leased(self, workspace_id: str, agent_id: str, task_type: str = "plan") -> int:
        """A task handed to an agent directly on the engine (REST tests need no C&C socket)."""
        task_id = await self.task(workspace_id, task_type)
        await self.runtime.engine.lease_one(task_id, node_id=agent_id, lease_for=timedelta(minutes=5))
        return task_id

    def agent_http(self, agent_id: str, app: dict[str, Any]) -> httpx.AsyncClient:
        headers = {"X-App-Key": app["app_key"], "X-App-Secret": app["app_secret"], "X-Agent-ID": agent_id}
        return httpx.AsyncClient(base_url=self.url, headers=headers)

    async def wait_for(
        self, request: Callable[[], Awaitable[httpx.Response]], timeout: float = 10.0, **expected: Any
    ) -> httpx.Response:
        """Repeats a read until its `status` object shows the expected values (a C&C message is handled
        after the client has sent it; nothing tells the test when, so it asks again)."""
        async with asyncio.timeout(timeout):
            while True:
                response = await request()
                status = response.json().get("status") if response.status_code == 200 else None
                if isinstance(status, dict) and all(status.get(k) == v for k, v in expected.items()):
                    return response
                await asyncio.sleep(0.02)

    def agent_config(self, agent_id: str, app: dict[str, Any], **overrides: Any) -> AgentConfig:
        values: dict[str, Any] = {
            "server_url": self.url,
            "agent_id": agent_id,
            "app_key": app["app_key"],
            "app_secret": app["app_secret"],
            "terraform": bundled_terraform(),
            "reconnect_initial": 0.05,
            "reconnect_max": 0.2,
            "retry_delays": (0.05, 0.1, 0.2),
            "log_retry_delays": (0.05, 0.1, 0.2, 0.4),
            "log_flush_interval": 0.2,
            "kill_after": 2.0,
            **overrides,
        }
        return AgentConfig(**values)

    @contextlib.asynccontextmanager
    async def real_agent(
        self, agent_id: str, app: dict[str, Any], **overrides: Any
    ) -> AsyncIterator[IacAgent]:
        async with IacAgent(self.agent_config(agent_id, app, **overrides)) as agent:
            await asyncio.wait_for(agent.connected.wait(), 10)
            yield agent

    @contextlib.asynccontextmanager
    async def raw_agent(
        self, agent_id: str, app: dict[str, Any], *, plan_limit: int = 3
    ) -> AsyncIterator[RawAgent]:
        raw = RawAgent(self.url, agent_id, app, plan_limit=plan_limit)
        await raw.open()
        try:
            yield raw
        finally:
            await raw.close()


class RawAgent:
    """A C&C client that sends exactly what the test says (the original agent's message shapes)."""

    def __init__(self, url: str, agent_id: str, app: dict[str, Any], *, plan_limit: int) -> None:
        self.url = url
        self.agent_id = agent_id
        self.headers = {
            "X-App-Key": app["app_key"],
            "X-App-Secret": app["app_secret"],
            "X-Agent-ID": agent_id,
        }
        self.plan_limit = plan_limit
        self.ws: ClientConnection | None = None
        self.http = httpx.AsyncClient(base_url=url, headers=self.headers)

    async def open(self, *, heartbeat: bool = True) -> ClientConnection:
        ws_url = self.url.replace("http://", "ws://") + f"/api/v1/agents/control?agent_id={self.agent_id}"
        self.ws = await connect(ws_url, additional_headers=self.headers)
        if heartbeat:
            await self.heartbeat()
        return self.ws

    async def heartbeat(self, *, plans: int = 0, apply: bool = False, tasks: list[int] | None = None) -> None:
        await self.send(
            "heartbeat",
            {
                "plan_running": plans,
                "plan_limit": self.plan_limit,
                "apply_running": apply,
                "current_tasks": tasks or [],
                "cpu_usage": 1.5,
                "mem_usage": 20.0,
                "status": "ok",
                "timestamp": 0,
            },
        )

    async def send(self, kind: str, payload: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": kind, "payload": payload}))

    async def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        assert self.ws is not None
        message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        assert isinstance(message, dict)
        return message

    async def nothing_within(self, seconds: float) -> None:
        """Nothing arrives for a while (used only where the absence of a push is the point)."""
        assert self.ws is not None
        with contextlib.suppress(TimeoutError):
            message = await asyncio.wait_for(self.ws.recv(), seconds)
            raise AssertionError(f"unexpected message {message}")

    async def status(self, task_id: int, status: str, **fields: Any) -> httpx.Response:
        return await self.http.put(
            f"/api/v1/agents/tasks/{task_id}/status", json={"status": status, **fields}
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.aclose()


@pytest.fixture
async def world(settings: Settings, clock: ManualClock) -> AsyncIterator[IacWorld]:
    async with (
        open_runtime(settings, clock=clock) as runtime,
        serving(runtime, "iac") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["iac"], headers={"X-Admin-Key": ADMIN_KEY}) as http,
    ):
        yield IacWorld(listeners.urls["iac"], http, runtime, clock)
