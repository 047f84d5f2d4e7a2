"""The console on an ephemeral port beside the protocols it shows, and a logged-in operator's client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from agenthub.core.jobs import Backoff, KindPolicy, NewJob
from agenthub.core.nodes import NodeSighting
from agenthub.server.runner import Listeners
from agenthub.server.runtime import Runtime
from tests.support.servers import serving

SUPER = {"username": "root", "password": "rootpass123"}  # tests/conftest.py: make_settings
BACKOFF_KIND = "test.backoff"


@pytest.fixture
async def served(runtime: Runtime) -> AsyncIterator[Listeners]:
    async with serving(runtime, "oas", "devices", "comfyui", "iac", "console") as listeners:
        yield listeners


@pytest.fixture
async def console_url(served: Listeners) -> str:
    return served.urls["console"]


@pytest.fixture
async def operator(console_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=console_url, timeout=10) as http:
        response = await http.post("/api/login", json=SUPER)
        assert response.status_code == 200, response.text
        yield http


async def oas_job(runtime: Runtime, *, owner: int = 1, **values: object) -> int:
    job = await runtime.engine.submit(NewJob(kind="oas.task", type="daily", owner_id=owner, **values))  # type: ignore[arg-type]
    assert job is not None
    return job.id


async def node(runtime: Runtime, kind: str, node_id: str, owner: int | None = None) -> None:
    await runtime.engine.node_seen(NodeSighting(kind=kind, node_id=node_id, owner_id=owner, version="1.0"))


def slow_backoff(runtime: Runtime) -> None:
    runtime.engine.register_kind(
        BACKOFF_KIND, KindPolicy(backoff=Backoff(base_seconds=30, factor=2, max_seconds=600))
    )


LEASE = timedelta(seconds=60)
