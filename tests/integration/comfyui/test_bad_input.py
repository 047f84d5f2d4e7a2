"""Bad input, from the hardening issue's repros: never a 500, always `{"detail": "AGENT_...", "message": ...}`
with something readable, and the keep-alive connection survives the refusal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.comfyui.conftest import ComfyWorld, bearer

BEYOND_64_BITS = 9223372036854775808  # 2**63


class Connection:
    """One keep-alive HTTP/1.1 connection, requests sent one after the other on it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader = reader
        self.writer = writer
        self.host = host

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], Any]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        answer_headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:] if line)
        }
        data = await self.reader.readexactly(int(answer_headers["content-length"]))
        return status, answer_headers, json.loads(data)


@pytest.fixture
async def connection(world: ComfyWorld) -> AsyncIterator[Connection]:
    url = urlsplit(str(world.http.base_url))
    assert url.hostname is not None and url.port is not None
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    yield Connection(reader, writer, url.netloc)
    writer.close()
    await writer.wait_closed()


async def test_ids_beyond_64_bits_are_refused_and_the_connection_stays_open(
    world: ComfyWorld, connection: Connection
) -> None:
    await world.agent("gpu-1")
    _, token, _, manifest_id = await world.leased_task()
    agent = bearer(token)
    admin = {**world.admin, "Content-Type": "application/json"}
    refused = [
        ("GET", f"/api/agent/manifests/{BEYOND_64_BITS}", agent, b""),
        ("GET", f"/api/agent/manifests/-{BEYOND_64_BITS + 1}", agent, b""),
        ("GET", f"/api/agent/operator/manifests/{BEYOND_64_BITS}", admin, b""),
        (
            "POST",
            f"/api/agent/operator/manifests/{BEYOND_64_BITS}/versions",
            admin,
            json.dumps({"version": "v2", "content": {}}).encode(),
        ),
        (
            "POST",
            "/api/agent/operator/tasks",
            admin,
            json.dumps({"agent_id": "gpu-1", "manifest_id": BEYOND_64_BITS}).encode(),
        ),
        ("GET", "/api/agent/operator/tasks?limit=99999999999999999999", admin, b""),
    ]
    for method, path, headers, body in refused:
        status, answer_headers, answer = await connection.request(method, path, headers, body)
        assert (status, answer["detail"]) == (400, "AGENT_REQUEST_INVALID"), (path, answer)
        assert "922337203685477580" in answer["message"], answer  # the 64-bit bound it passed
        assert answer_headers.get("connection") != "close"
    # the same connection still serves, and an id in range is looked up as usual
    status, _, answer = await connection.request("GET", f"/api/agent/manifests/{manifest_id}", agent)
    assert status == 200 and answer["id"] == manifest_id
    status, _, answer = await connection.request("GET", "/api/agent/manifests/424242", agent)
    assert (status, answer["detail"]) == (404, "AGENT_MANIFEST_NOT_FOUND")
    # without a token the agent route asks for one first, whatever the id
    status, _, answer = await connection.request("GET", f"/api/agent/manifests/{BEYOND_64_BITS}")
    assert (status, answer["detail"]) == (401, "AGENT_TOKEN_REQUIRED")


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ('{"status": "active", "cpu": NaN}', "cpu"),
        ('{"status": "active", "mem": Infinity}', "mem"),
        ('{"status": "active", "disk_free_gb": -Infinity}', "disk_free_gb"),
        ('{"status": "active", "cpu": 1e400}', "cpu"),
        ('{"metrics": {"gpu": NaN}}', "metrics.gpu"),
        ('{"gpu": {"util": [1, 1e400]}}', "gpu.util[1]"),
        ('{"payload": {"runtime": {"load": Infinity}}}', "payload.runtime.load"),
    ],
)
async def test_heartbeat_numbers_must_be_finite(world: ComfyWorld, raw: str, where: str) -> None:
    await world.agent("gpu-1")
    token = await world.agent_token("gpu-1")
    headers = {**bearer(token), "Content-Type": "application/json"}
    r = await world.http.post("/api/agent/agents/gpu-1/heartbeat", content=raw, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["detail"] == "AGENT_REQUEST_INVALID"
    assert f"{where}: numbers must be finite" in r.json()["message"]
    # nothing of it was kept, not even as null
    seen = (await world.http.get("/api/agent/operator/agents/gpu-1", headers=world.admin)).json()
    assert seen["metrics"] is None and seen["status"] is None


async def test_other_bodies_refuse_numbers_that_are_not_finite(world: ComfyWorld) -> None:
    await world.agent("gpu-1")
    task_id, token, _, _ = await world.leased_task()
    headers = {**bearer(token), "Content-Type": "application/json"}
    raw = '{"message": "m", "payload": {"ratio": NaN}}'
    r = await world.http.post(f"/api/agent/tasks/{task_id}/events", content=raw, headers=headers)
    assert (r.status_code, r.json()["detail"]) == (400, "AGENT_REQUEST_INVALID")
    assert "payload.ratio: numbers must be finite" in r.json()["message"]
    r = await world.http.post(
        f"/api/agent/tasks/{task_id}/complete", content='{"took": Infinity}', headers=headers
    )
    assert (r.status_code, r.json()["detail"]) == (400, "AGENT_REQUEST_INVALID")
    assert (await world.task_view(task_id))["status"] == "pending"


async def test_big_integers_inside_free_form_payloads_are_kept_alike(world: ComfyWorld) -> None:
    # A JSON payload is stored as JSON, so an integer beyond 64 bits in it is kept exactly on both dialects.
    await world.agent("gpu-1")
    token = await world.agent_token("gpu-1")
    beat = {"metrics": {"bytes": 2**70, "neg": -(2**64)}}
    r = await world.http.post("/api/agent/agents/gpu-1/heartbeat", json=beat, headers=bearer(token))
    assert r.status_code == 200, r.text
    seen = (await world.http.get("/api/agent/operator/agents/gpu-1", headers=world.admin)).json()
    assert seen["metrics"]["metrics"] == {"bytes": 2**70, "neg": -(2**64)}
    # where the value is a column or a size, it is refused with the bound it passed
    content = {"models": [{"name": "m", "url": "http://x/m", "sha256": "0" * 64, "size": 2**63}]}
    r = await world.http.post(
        "/api/agent/operator/manifests",
        json={"name": "big", "version": "v1", "content": content},
        headers=world.admin,
    )
    assert (r.status_code, r.json()["detail"]) == (400, "AGENT_REQUEST_INVALID")
    assert "9223372036854775807" in r.json()["message"]


async def test_unreadable_bodies_say_what_is_wrong(world: ComfyWorld) -> None:
    await world.agent("gpu-1")
    token = await world.agent_token("gpu-1")
    headers = {**bearer(token), "Content-Type": "application/json"}
    url = "/api/agent/agents/gpu-1/heartbeat"
    deep = "[" * 100_000 + "]" * 100_000
    r = await world.http.post(url, content=deep, headers=headers)
    assert r.json() == {"detail": "AGENT_REQUEST_INVALID", "message": "body: JSON nested too deeply to read"}
    assert r.status_code == 400
    deep_object = '{"a":' * 100_000 + "1" + "}" * 100_000
    r = await world.http.post(url, content=deep_object, headers=headers)
    assert (r.status_code, r.json()["message"]) == (400, "body: JSON nested too deeply to read")
    r = await world.http.post(url, content=b'{"status": "\xff\xfe"}', headers=headers)
    assert r.json() == {
        "detail": "AGENT_REQUEST_INVALID",
        "message": "body: not valid UTF-8, so not valid JSON",
    }
    r = await world.http.post(url, content='{"status": ', headers=headers)
    assert (r.status_code, r.json()["detail"]) == (400, "AGENT_REQUEST_INVALID")
    assert "JSON" in r.json()["message"]


async def test_a_chunked_body_over_the_limit_is_413(world: ComfyWorld) -> None:
    await world.agent("gpu-1")
    token = await world.agent_token("gpu-1")
    limit = world.context.settings.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"status": "active", "note": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    r = await world.http.post(
        "/api/agent/agents/gpu-1/heartbeat",
        content=chunks(),
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["detail"]) == (413, "AGENT_BODY_TOO_LARGE")
    assert "content-length" not in {k.lower() for k in r.request.headers}  # it was sent chunked


async def test_the_original_agents_heartbeat_is_understood(world: ComfyWorld) -> None:
    await world.agent("gpu-1")
    token = await world.agent_token("gpu-1")
    beat = {
        "status": "active",
        "metrics": {"host": "desk-7"},
        "agentVersion": "desktop-0.1.0",
        "payload": {"runtime": {"python": "3.11"}, "updateState": {"state": "idle"}},
    }
    r = await world.http.post("/api/agent/agents/gpu-1/heartbeat", json=beat, headers=bearer(token))
    assert r.status_code == 200 and r.json()["status"] == "ok"
    seen = (await world.http.get("/api/agent/operator/agents/gpu-1", headers=world.admin)).json()
    assert (seen["agent_version"], seen["status"], seen["online"]) == ("desktop-0.1.0", "active", True)
    assert seen["metrics"]["metrics"] == {"host": "desk-7"}
    assert seen["metrics"]["payload"]["updateState"] == {"state": "idle"}
    node = await world.runtime.engine.node("comfyui", "gpu-1")
    assert node is not None and node.version == "desktop-0.1.0"
