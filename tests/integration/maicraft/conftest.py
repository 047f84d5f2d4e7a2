"""The MaicraftAgent API on an ephemeral port; without a game (fast tests) or with the real stack."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from agenthub.protocols.maicraft.settings import MaicraftSettings, ModelPrice
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.support.servers import serving

PRICES = {"qwen3-next-80b-a3b-instruct": ModelPrice(input=1.0, output=4.0)}


def maicraft_settings(**overrides: Any) -> MaicraftSettings:
    values: dict[str, Any] = {"mcp_enabled": False, "model_prices": PRICES, "goal": "生存挑战", **overrides}
    return MaicraftSettings(**values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    base = make_settings(database_url)
    base.protocols["maicraft"] = maicraft_settings()
    return base


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[str]:
    async with serving(runtime, "maicraft") as listeners:
        yield listeners.urls["maicraft"]


@pytest.fixture
async def http(api: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api, timeout=30) as client:
        yield client


class Socket:
    """A WebSocket client that reads JSON messages, skipping server pings unless asked for."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, message: Any) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, *, timeout: float = 10.0, skip_pings: bool = True) -> dict[str, Any]:
        import asyncio

        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if not (skip_pings and message.get("type") == "ping"):
                return message

    async def expect(self, kind: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """The next message of this type (others in between are skipped)."""
        import asyncio

        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout=timeout)
                if message.get("type") == kind:
                    return message


def ws_url(api: str, path: str) -> str:
    return api.replace("http://", "ws://") + path


async def connect(api: str, path: str) -> tuple[Any, Socket]:
    ws = await websockets.connect(ws_url(api, path), max_size=2**24, open_timeout=30)
    sock = Socket(ws)
    welcome = await sock.recv()
    assert welcome["type"] == "welcome"
    return ws, sock
