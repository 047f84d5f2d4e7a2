"""An async client for every Oas agent endpoint of seed 000 (sections 4 and 4.5).

    async with OasAgentClient("http://cloud:7000", username="mgr1", password="...", node_id="PC-1") as client:
        jobs = await client.poll_jobs(limit=10)

It logs in on first use and again, once, when a call answers 401 (an expired token).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from agenthub.sdk.oas.errors import Unauthorized, error_for
from agenthub.sdk.oas.models import AgentJob, ScanChoice, ScanJob, parse_time


class OasAgentClient:
    def __init__(
        self,
        base_url: str,
        *,
        username: str,
        password: str,
        node_id: str,
        version: str | None = None,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.node_id = node_id
        self.version = version
        self.manager_id: int | None = None
        self._token: str | None = None
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    async def __aenter__(self) -> OasAgentClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- auth -------------------------------------------------------------------------------------------

    async def login(self) -> str:
        body: dict[str, Any] = {"username": self.username, "password": self.password, "node_id": self.node_id}
        if self.version:
            body["version"] = self.version
        data = await self._send("POST", "/api/v1/agent/auth/login", json=body, auth=False)
        self._token, self.manager_id = data["token"], data["manager_id"]
        return str(data["token"])

    # -- task jobs (4.2-4.6) ----------------------------------------------------------------------------

    async def poll_jobs(self, *, limit: int = 10, lease_seconds: int = 90) -> list[AgentJob]:
        data = await self._call(
            "POST",
            "/api/v1/agent/poll-jobs",
            {"node_id": self.node_id, "limit": limit, "lease_seconds": lease_seconds},
        )
        return [AgentJob.from_wire(job) for job in data.get("jobs") or []]

    async def start(self, job_id: int, *, lease_seconds: int = 90, message: str | None = None) -> None:
        await self._call(
            "POST", f"/api/v1/agent/jobs/{job_id}/start", self._lease_body(lease_seconds, message)
        )

    async def heartbeat(self, job_id: int, *, lease_seconds: int = 90, message: str | None = None) -> None:
        await self._call(
            "POST", f"/api/v1/agent/jobs/{job_id}/heartbeat", self._lease_body(lease_seconds, message)
        )

    async def complete(
        self, job_id: int, *, message: str | None = None, result: dict[str, Any] | None = None
    ) -> None:
        await self._call(
            "POST",
            f"/api/v1/agent/jobs/{job_id}/complete",
            {"node_id": self.node_id, "message": message, "result": result},
        )

    async def fail(
        self,
        job_id: int,
        *,
        message: str | None = None,
        error_code: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        await self._call(
            "POST",
            f"/api/v1/agent/jobs/{job_id}/fail",
            {"node_id": self.node_id, "message": message, "error_code": error_code, "result": result},
        )

    # -- users (4.7-4.10) -------------------------------------------------------------------------------

    async def full_config(self, user_id: int) -> dict[str, Any]:
        data = await self._call("GET", f"/api/v1/agent/users/{user_id}/full-config")
        config: dict[str, Any] = data.get("data", data)
        return config

    async def update_game_profile(
        self,
        user_id: int,
        *,
        archive_status: str | None = None,
        server: str | None = None,
        username: str | None = None,
    ) -> None:
        fields = {"archive_status": archive_status, "server": server, "username": username}
        await self._call(
            "PATCH",
            f"/api/v1/agent/users/{user_id}/game-profile",
            {k: v for k, v in fields.items() if v is not None},
        )

    async def update_explore_progress(self, user_id: int, progress: dict[str, bool]) -> None:
        await self._call("PUT", f"/api/v1/agent/users/{user_id}/explore-progress", {"progress": progress})

    async def upload_logs(self, user_id: int, logs: list[dict[str, Any]]) -> None:
        await self._call("POST", f"/api/v1/agent/users/{user_id}/logs", {"logs": logs})

    # -- scan jobs (4.11-4.17) --------------------------------------------------------------------------

    async def scan_poll(self, *, limit: int = 1, lease_seconds: int = 120) -> list[ScanJob]:
        data = await self._call(
            "POST",
            "/api/v1/agent/scan/poll",
            {"node_id": self.node_id, "limit": limit, "lease_seconds": lease_seconds},
        )
        return [ScanJob.from_wire(job) for job in (data.get("data") or {}).get("jobs") or []]

    async def scan_start(self, scan_id: int, *, lease_seconds: int = 120) -> None:
        await self._call(
            "POST",
            f"/api/v1/agent/scan/{scan_id}/start",
            {"node_id": self.node_id, "lease_seconds": lease_seconds},
        )

    async def scan_phase(
        self, scan_id: int, phase: str, *, screenshot: str | None = None, screenshot_key: str | None = None
    ) -> None:
        body: dict[str, Any] = {"node_id": self.node_id, "phase": phase}
        if screenshot is not None:
            body.update(screenshot=screenshot, screenshot_key=screenshot_key)
        await self._call("POST", f"/api/v1/agent/scan/{scan_id}/phase", body)

    async def scan_choice(self, scan_id: int) -> ScanChoice:
        data = await self._call(
            "GET", f"/api/v1/agent/scan/{scan_id}/choice", params={"node_id": self.node_id}
        )
        return ScanChoice.from_wire(data.get("data") or {})

    async def scan_heartbeat(self, scan_id: int, *, lease_seconds: int = 120) -> None:
        await self._call(
            "POST",
            f"/api/v1/agent/scan/{scan_id}/heartbeat",
            {"node_id": self.node_id, "lease_seconds": lease_seconds},
        )

    async def scan_complete(self, scan_id: int, *, message: str | None = None) -> None:
        await self._call(
            "POST", f"/api/v1/agent/scan/{scan_id}/complete", {"node_id": self.node_id, "message": message}
        )

    async def scan_fail(
        self, scan_id: int, *, message: str | None = None, error_code: str = "EXECUTOR_ERROR"
    ) -> None:
        await self._call(
            "POST",
            f"/api/v1/agent/scan/{scan_id}/fail",
            {"node_id": self.node_id, "message": message, "error_code": error_code},
        )

    # -- public (5) -------------------------------------------------------------------------------------

    async def task_templates(self, user_type: str | None = None) -> dict[str, Any]:
        params = {"user_type": user_type} if user_type else None
        data = await self._send("GET", "/api/v1/task-templates", params=params, auth=False)
        templates: dict[str, Any] = data["data"]
        return templates

    # -- plumbing ---------------------------------------------------------------------------------------

    def _lease_body(self, lease_seconds: int, message: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"node_id": self.node_id, "lease_seconds": lease_seconds}
        if message is not None:
            body["message"] = message
        return body

    async def _call(
        self, method: str, path: str, json: dict[str, Any] | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if self._token is None:
            await self.login()
        try:
            return await self._send(method, path, json=json, params=params)
        except Unauthorized:
            await self.login()
            return await self._send(method, path, json=json, params=params)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}"} if auth and self._token else None
        response = await self._http.request(method, path, json=json, params=params, headers=headers)
        if response.status_code >= 400:
            raise error_for(response.status_code, _detail(response))
        if not response.content:
            return {}
        data: dict[str, Any] = response.json()
        return data


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text[:200]
    return str(detail)


__all__ = ["OasAgentClient", "parse_time"]
