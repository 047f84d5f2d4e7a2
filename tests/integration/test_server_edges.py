"""What every protocol's server does the same way: bodies over the limit are 413 whether or not they declare
their length, and access tokens never reach the logs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets

from agenthub.protocols.comfyui.settings import ComfyuiSettings
from agenthub.protocols.iac.settings import IacSettings
from agenthub.protocols.maicraft.settings import MaicraftSettings
from agenthub.protocols.oas.settings import OasSettings
from agenthub.server.runtime import Runtime
from tests.support.servers import serving


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    yield b'{"data": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


@pytest.mark.parametrize("protocol", ["oas", "comfyui", "devices", "iac", "maicraft"])
async def test_a_chunked_body_over_the_limit_is_413(runtime: Runtime, protocol: str) -> None:
    runtime.settings.protocols["oas"] = runtime.settings.protocol("oas", OasSettings).model_copy(
        update={"max_body_bytes": 100_000}
    )
    runtime.settings.protocols["comfyui"] = ComfyuiSettings(max_body_bytes=100_000)  # type: ignore[call-arg]
    runtime.settings.protocols["iac"] = IacSettings(max_body_bytes=100_000, admin_key="edge-key")  # type: ignore[call-arg]
    runtime.settings.protocols["maicraft"] = MaicraftSettings(mcp_enabled=False)  # type: ignore[call-arg]
    paths = {
        "oas": "/api/v1/agent/auth/login",
        "comfyui": "/api/agent/operator/manifests",
        "devices": "/api/dispatch-task",
        "iac": "/api/v1/admin/applications",
        "maicraft": "/api/token-usage/record",  # its limit is 1 MB; the body below is 4 MB
    }
    async with (
        serving(runtime, protocol) as listeners,
        httpx.AsyncClient(base_url=listeners.urls[protocol], timeout=20) as http,
    ):
        r = await http.post(
            paths[protocol],
            content=chunks(4_000_000),
            headers={"content-type": "application/json", "X-Admin-Key": "edge-key"},  # IaC checks it first
        )
        assert r.status_code == 413, r.text
        assert r.headers.get("content-length") != "0"
        small = await http.post(paths[protocol], json={})  # the server still answers
        assert small.status_code < 500


async def test_access_tokens_in_query_strings_are_masked_in_logs(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serving(runtime, "oas") as listeners:
        logging.getLogger("uvicorn.error").setLevel(logging.INFO)  # where uvicorn logs WebSocket requests
        url = listeners.urls["oas"].replace("http://", "ws://") + "/api/v1/user/scan/ws?token=eyJsecret.part"
        try:
            async with websockets.connect(url) as ws:
                await ws.recv()
        except websockets.exceptions.WebSocketException:
            pass
    logged = capsys.readouterr().err
    assert '"WebSocket /api/v1/user/scan/ws?token=***"' in logged
    assert "eyJsecret" not in logged


async def test_a_small_declared_length_does_not_let_a_chunked_body_past_the_limit(runtime: Runtime) -> None:
    """A request that declares a small Content-Length but sends a large chunked body is still refused
    (by the limit, or by the HTTP parser as malformed), never handed on as a small one."""
    runtime.settings.protocols["oas"] = runtime.settings.protocol("oas", OasSettings).model_copy(
        update={"max_body_bytes": 100_000}
    )
    async with serving(runtime, "oas") as listeners:
        host, port = listeners.urls["oas"].removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /api/v1/agent/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 65536
        with contextlib.suppress(ConnectionError):
            for _ in range(40):
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=20)
        writer.close()
        assert status_line.split()[1] in (b"400", b"413"), status_line


async def test_a_chunked_body_over_the_limit_is_413_on_the_agents_fast_path(runtime: Runtime) -> None:
    runtime.settings.protocols["oas"] = runtime.settings.protocol("oas", OasSettings).model_copy(
        update={"max_body_bytes": 100_000}
    )
    async with (
        serving(runtime, "oas") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["oas"], timeout=20) as http,
    ):
        for path in ("/api/v1/agent/poll-jobs", "/api/v1/agent/jobs/1/complete"):
            r = await http.post(path, content=chunks(4_000_000), headers={"content-type": "application/json"})
            assert r.status_code == 413, r.text
            assert r.json() == {"detail": r.json()["detail"]} and r.json()["detail"]
