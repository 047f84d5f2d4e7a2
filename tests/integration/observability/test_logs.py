"""Structured logs: one JSON line per job transition and per agent connect/disconnect, with the fields an
operator greps for; uvicorn's loggers write the same format; no token or secret reaches the output."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import websockets

from agenthub.core.clock import ManualClock
from agenthub.core.jobs import JobFilter, KindPolicy, LeaseRef, NewJob
from agenthub.core.nodes import NodeSighting
from agenthub.server import logs
from agenthub.server.runtime import Runtime
from tests.support.servers import serving

KIND = "test.logs"
TOKEN = "s3cr3t-t0ken-value"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """`logs.configure` as `agenthub serve` runs it, into a buffer; the logging setup is restored after."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in logs.UVICORN_LOGGERS
    }
    buffer = io.StringIO()
    logs.configure("json", "info", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])
        for name, (handlers, propagate) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]  # every line is JSON


async def test_job_transitions_and_agent_presence_are_json_lines(
    runtime: Runtime, clock: ManualClock, captured: io.StringIO
) -> None:
    engine = runtime.engine
    engine.register_kind(KIND, KindPolicy())
    await engine.node_seen(NodeSighting(kind="test.node", node_id="n1", owner_id=42, version="1.2"))
    await engine.node_seen(NodeSighting(kind="test.node", node_id="n1", owner_id=42))  # a heartbeat
    job = await engine.submit(NewJob(kind=KIND, type="scan", max_attempts=2))
    assert job is not None
    [leased] = await engine.lease(
        JobFilter(kind=KIND), node_id="n1", limit=1, lease_for=timedelta(seconds=30)
    )
    lease = LeaseRef("n1", leased.lease_epoch)
    await engine.heartbeat(job.id, lease, lease_for=timedelta(seconds=30))
    await engine.fail(
        job.id, lease, error_code="E_AUTH", message=f"upstream said: Bearer {TOKEN} ?token={TOKEN}"
    )
    await engine.node_gone("test.node", "n1")
    await engine.node_seen(NodeSighting(kind="test.node", node_id="n2"))
    clock.advance(seconds=3600)
    await engine.mark_silent_nodes_offline()
    logging.getLogger("uvicorn.error").warning("closing ws /scan?token=%s", TOKEN)

    out = lines(captured)
    assert TOKEN not in captured.getvalue()
    jobs = [line for line in out if line["logger"] == "agenthub.jobs"]
    assert [line["event"] for line in jobs] == ["created", "leased", "fail"]  # heartbeats stay at DEBUG
    fail = jobs[-1]
    assert {k: fail[k] for k in ("job_id", "kind", "type", "status", "node", "attempts", "error_code")} == {
        "job_id": job.id,
        "kind": KIND,
        "type": "scan",
        "status": "pending",
        "node": "n1",
        "attempts": 1,
        "error_code": "E_AUTH",
    }
    assert fail["reason"].startswith("upstream said: Bearer ***")
    assert fail["level"] == "info" and fail["ts"] and f"job {job.id}" in fail["message"]

    agents = [line for line in out if line["logger"] == "agenthub.agents"]
    assert [(a["event"], a["node"], a.get("reason")) for a in agents] == [
        ("connected", "n1", None),
        ("disconnected", "n1", "disconnected"),
        ("connected", "n2", None),
        ("disconnected", "n2", "silent"),
    ]
    assert agents[0]["owner_id"] == 42 and agents[0]["node_kind"] == "test.node"

    [uvicorn_line] = [line for line in out if line["logger"] == "uvicorn.error"]
    assert uvicorn_line["level"] == "warning"
    assert uvicorn_line["message"] == "closing ws /scan?token=***"


def test_text_format_masks_secrets_too() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "auth %s", (f"password={TOKEN}",), None)
    text = logs.TextFormatter(logs.TEXT_FORMAT).format(record)
    assert TOKEN not in text and "password=***" in text


async def test_uvicorn_lines_of_a_served_protocol_are_json_and_masked(
    runtime: Runtime, captured: io.StringIO
) -> None:
    async with serving(runtime, "oas") as listeners:  # uvicorn.Config resets its loggers: adopted again
        logging.getLogger("uvicorn.error").setLevel(logging.INFO)  # where uvicorn logs WebSocket requests
        url = listeners.urls["oas"].replace("http://", "ws://") + f"/api/v1/user/scan/ws?token={TOKEN}"
        with contextlib.suppress(websockets.exceptions.WebSocketException):
            async with websockets.connect(url) as ws:
                await ws.recv()
    assert TOKEN not in captured.getvalue()
    requests = [line for line in lines(captured) if line["logger"] == "uvicorn.error"]
    assert any("/api/v1/user/scan/ws?token=***" in line["message"] for line in requests), requests
