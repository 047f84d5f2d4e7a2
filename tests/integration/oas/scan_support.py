"""Scan test helpers: a user logged in with a live WebSocket, and waiting for a condition without sleeping
time forward (the clock is a ManualClock; only real background loops need a moment to notice)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from tests.integration.oas.conftest import Agent, OasWorld


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


class ScanUser:
    def __init__(self, http: httpx.AsyncClient, token: str, user: dict[str, Any]) -> None:
        self.http = http
        self.token = token
        self.user = user
        self.ws: ClientConnection | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def connect(self) -> ClientConnection:
        url = str(self.http.base_url).replace("http://", "ws://") + f"/api/v1/user/scan/ws?token={self.token}"
        self.ws = await websockets.connect(url)
        await asyncio.sleep(0.05)  # let the server subscribe before anything is published
        return self.ws

    async def next_message(self, timeout: float = 30.0) -> dict[str, Any]:
        assert self.ws is not None
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message.get("type") != "ping":
                return message

    async def post(self, action: str, **body: Any) -> httpx.Response:
        return await self.http.post(f"/api/v1/user/scan/{action}", json=body, headers=self.headers)

    async def create(self, **body: Any) -> int:
        r = await self.post("create", **body)
        assert r.status_code == 201, r.text
        return int(r.json()["data"]["scan_job_id"])

    async def status(self) -> dict[str, Any]:
        r = await self.http.get("/api/v1/user/scan/status", headers=self.headers)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        return data

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def scan_user(world: OasWorld, manager: dict[str, Any], **fields: Any) -> ScanUser:
    user = await world.user(manager, **fields)
    r = await world.http.post("/api/v1/user/auth/login", json={"account_no": user["account_no"]})
    assert r.status_code == 200, r.text
    return ScanUser(world.http, r.json()["token"], user)


async def agent_call(world: OasWorld, agent: Agent, scan_id: int, action: str, **body: Any) -> httpx.Response:
    if action == "choice":
        return await world.http.get(
            f"/api/v1/agent/scan/{scan_id}/choice", params={"node_id": agent.node_id}, headers=agent.headers
        )
    return await world.http.post(
        f"/api/v1/agent/scan/{scan_id}/{action}",
        json={"node_id": agent.node_id, **body},
        headers=agent.headers,
    )


async def scan_poll(world: OasWorld, agent: Agent, **body: Any) -> dict[str, Any]:
    r = await world.http.post(
        "/api/v1/agent/scan/poll", json={"node_id": agent.node_id, **body}, headers=agent.headers
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data
