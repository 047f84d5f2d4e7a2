"""The agent's REST client for the seed's task API (application credentials in every request).

Like the original agent, data, status and state calls are retried on a 5xx or a transport error (three
times, 1 s / 2 s / 4 s by default), never on a 4xx; log chunks are retried by the uploader, which knows
the committed offset.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

import httpx


class ApiError(Exception):
    """The server refused a request (4xx, or 5xx after the retries)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body.get('error', body)}")
        self.status = status
        self.body = body


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class IacClient:
    def __init__(
        self,
        server_url: str,
        *,
        agent_id: str,
        app_key: str,
        app_secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_delays: Sequence[float] = (1.0, 2.0, 4.0),
        timeout: float = 30.0,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.agent_id = agent_id
        self.headers = {"X-App-Key": app_key, "X-App-Secret": app_secret, "X-Agent-ID": agent_id}
        self.retry_delays = tuple(retry_delays)
        self.http = httpx.AsyncClient(
            base_url=self.server_url, headers=self.headers, transport=transport, timeout=timeout
        )

    @property
    def control_url(self) -> str:
        base = self.server_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{base}/api/v1/agents/control?agent_id={self.agent_id}"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None, *, retry: bool
    ) -> dict[str, Any]:
        delays = (*self.retry_delays, None) if retry else (None,)
        for delay in delays:
            try:
                response = await self.http.request(method, path, json=body)
            except httpx.TransportError:
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                continue
            if response.status_code >= 500 and delay is not None:
                await asyncio.sleep(delay)
                continue
            answer = _json(response)
            if response.status_code >= 400:
                raise ApiError(response.status_code, answer)
            return answer
        raise AssertionError("unreachable")

    async def task_data(self, task_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/api/v1/agents/tasks/{task_id}/data", None, retry=True)

    async def update_status(self, task_id: int, status: str, **fields: Any) -> dict[str, Any]:
        body = {"status": status, **{k: v for k, v in fields.items() if v is not None}}
        return await self._call("PUT", f"/api/v1/agents/tasks/{task_id}/status", body, retry=True)

    async def save_state(self, task_id: int, content: str) -> int:
        data = content.encode("utf-8")
        body = {"content": content, "checksum": sha256_hex(data), "size": len(data)}
        answer = await self._call("POST", f"/api/v1/agents/tasks/{task_id}/state", body, retry=True)
        return int(answer["version"])

    async def upload_chunk(self, task_id: int, phase: str, data: bytes, offset: int) -> int:
        """Sends one chunk at `offset`; returns the server's committed offset (`next_offset`)."""
        body = {
            "phase": phase,
            "content": data.decode("utf-8"),
            "offset": offset,
            "checksum": sha256_hex(data),
        }
        answer = await self._call("POST", f"/api/v1/agents/tasks/{task_id}/logs/chunk", body, retry=False)
        return int(answer["next_offset"])


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {"error": response.text[:500]}
    return value if isinstance(value, dict) else {"value": value}
