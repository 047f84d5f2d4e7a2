"""The platform's agent endpoints (seed 003) as one small async client."""

from __future__ import annotations

from typing import Any

import httpx


class PlatformError(Exception):
    """The platform refused a call; `code` is its `AGENT_...` detail."""

    def __init__(self, status_code: int, code: str) -> None:
        super().__init__(f"{status_code} {code}")
        self.status_code = status_code
        self.code = code


class PlatformClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def verify(self, *, token: str, agent_id: str, task_id: str, nonce: str) -> dict[str, Any]:
        body = {"token": token, "agent_id": agent_id, "task_id": task_id, "nonce": nonce}
        return await self._call("POST", "/api/agent/auth/verify", json=body)

    async def manifest(self, manifest_id: int, *, token: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/agent/manifests/{manifest_id}", token=token)

    async def event(self, task_id: str, *, token: str, **body: Any) -> dict[str, Any]:
        return await self._call("POST", f"/api/agent/tasks/{task_id}/events", token=token, json=body)

    async def complete(self, task_id: str, *, token: str, **body: Any) -> dict[str, Any]:
        return await self._call("POST", f"/api/agent/tasks/{task_id}/complete", token=token, json=body)

    async def failed(self, task_id: str, *, token: str, **body: Any) -> dict[str, Any]:
        return await self._call("POST", f"/api/agent/tasks/{task_id}/failed", token=token, json=body)

    async def heartbeat(self, agent_id: str, *, token: str, **body: Any) -> dict[str, Any]:
        return await self._call("POST", f"/api/agent/agents/{agent_id}/heartbeat", token=token, json=body)

    async def alert(self, agent_id: str, *, token: str, **body: Any) -> dict[str, Any]:
        return await self._call("POST", f"/api/agent/agents/{agent_id}/alerts", token=token, json=body)

    async def _call(
        self, method: str, path: str, *, token: str | None = None, json: Any = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self._http.request(method, path, json=json, headers=headers)
        if response.is_error:
            try:
                code = str(response.json().get("detail", ""))
            except ValueError:
                code = response.text[:200]
            raise PlatformError(response.status_code, code)
        body: dict[str, Any] = response.json()
        return body
