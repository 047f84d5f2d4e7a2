"""An Oas server on an ephemeral port and a small operator script to set up managers, users and jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agenthub.core.clock import ManualClock
from agenthub.server.runtime import Runtime
from tests.support.servers import serving


@dataclass
class Agent:
    token: str
    node_id: str
    manager_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class OasWorld:
    """Drives the operator endpoints the way an operator would, so tests read as scenarios."""

    def __init__(self, http: httpx.AsyncClient, clock: ManualClock) -> None:
        self.http = http
        self.clock = clock
        self._super: str | None = None

    async def super_token(self) -> str:
        if self._super is None:
            r = await self.http.post(
                "/api/v1/super/auth/login", json={"username": "root", "password": "rootpass123"}
            )
            assert r.status_code == 200, r.text
            self._super = r.json()["token"]
        return self._super

    async def manager(
        self,
        username: str = "mgr1",
        password: str = "secret123",
        *,
        expires_in: timedelta | None = timedelta(days=30),
    ) -> dict[str, Any]:
        expires_at = (self.clock.now() + expires_in).isoformat() if expires_in is not None else None
        r = await self.http.post(
            "/api/v1/super/managers",
            json={"username": username, "password": password, "alias": username, "expires_at": expires_at},
            headers={"Authorization": f"Bearer {await self.super_token()}"},
        )
        assert r.status_code == 201, r.text
        login = await self.http.post(
            "/api/v1/manager/auth/login", json={"username": username, "password": password}
        )
        data: dict[str, Any] = r.json()["data"]
        if login.status_code == 200:
            data["token"] = login.json()["token"]
            data["headers"] = {"Authorization": f"Bearer {data['token']}"}
        return data

    async def agent(
        self, manager: dict[str, Any], node_id: str = "LAPTOP-ABC-1234", password: str = "secret123"
    ) -> Agent:
        r = await self.http.post(
            "/api/v1/agent/auth/login",
            json={
                "username": manager["username"],
                "password": password,
                "node_id": node_id,
                "version": "1.0.0",
            },
        )
        assert r.status_code == 200, r.text
        body = r.json()
        return Agent(token=body["token"], node_id=body["node_id"], manager_id=body["manager_id"])

    async def user(self, manager: dict[str, Any], **fields: Any) -> dict[str, Any]:
        r = await self.http.post(
            "/api/v1/manager/users/quick-create", json=fields, headers=manager["headers"]
        )
        assert r.status_code == 201, r.text
        user: dict[str, Any] = r.json()["data"]
        return user

    async def job(
        self, manager: dict[str, Any], user_id: int, task_type: str = "signin", **fields: Any
    ) -> dict[str, Any]:
        r = await self.http.post(
            "/api/v1/manager/jobs",
            json={"user_id": user_id, "task_type": task_type, **fields},
            headers=manager["headers"],
        )
        assert r.status_code == 201, r.text
        job: dict[str, Any] = r.json()["data"]
        return job

    async def poll(self, agent: Agent, **fields: Any) -> dict[str, Any]:
        r = await self.http.post(
            "/api/v1/agent/poll-jobs", json={"node_id": agent.node_id, **fields}, headers=agent.headers
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def report(self, agent: Agent, job_id: int, action: str, **fields: Any) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/agent/jobs/{job_id}/{action}",
            json={"node_id": agent.node_id, **fields},
            headers=agent.headers,
        )

    async def job_view(self, manager: dict[str, Any], job_id: int) -> dict[str, Any]:
        r = await self.http.get("/api/v1/manager/jobs", params={"page_size": 200}, headers=manager["headers"])
        assert r.status_code == 200, r.text
        return next(j for j in r.json()["data"]["items"] if j["ID"] == job_id)


@pytest.fixture
async def oas_url(runtime: Runtime) -> AsyncIterator[str]:
    async with serving(runtime, "oas") as listeners:
        yield listeners.urls["oas"]


@pytest.fixture
async def http(oas_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=oas_url, timeout=30) as client:
        yield client


@pytest.fixture
def world(http: httpx.AsyncClient, clock: ManualClock) -> OasWorld:
    return OasWorld(http, clock)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
