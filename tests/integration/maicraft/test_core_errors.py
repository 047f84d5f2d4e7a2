"""Every core error reaches the Maicraft wire in the seed's envelope (`success: false`, `error_code`) with a
4xx or 503, never a 500, over a real socket."""

from __future__ import annotations

import asyncio
from typing import NoReturn

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from agenthub.core.errors import (
    CORE_ERRORS,
    Conflict,
    EngineError,
    InvalidTransition,
    InvalidValue,
    JobNotFound,
    LeaseMismatch,
    StorageUnavailable,
)
from agenthub.protocols.maicraft.errors import FORMAT, install
from agenthub.server.runner import listen_socket

CASES: dict[type[EngineError], tuple[EngineError, int, str]] = {
    JobNotFound: (JobNotFound(1), 404, "RESOURCE_NOT_FOUND"),
    LeaseMismatch: (LeaseMismatch(1, "bot"), 409, "OPERATION_FAILED"),
    InvalidTransition: (InvalidTransition(1, "success", "cancel"), 409, "OPERATION_FAILED"),
    Conflict: (Conflict("duplicate"), 409, "OPERATION_FAILED"),
    StorageUnavailable: (StorageUnavailable("down"), 503, "OPERATION_FAILED"),
    InvalidValue: (InvalidValue("integer out of range"), 400, "INVALID_PARAMETER"),
}


def test_the_table_maps_every_core_error() -> None:
    assert FORMAT.missing_core_errors() == []
    assert set(CASES) == set(CORE_ERRORS)


@pytest.mark.parametrize("error_type", CORE_ERRORS, ids=lambda t: t.__name__)
async def test_core_error_reaches_the_wire_in_the_envelope(error_type: type[EngineError]) -> None:
    error, status, code = CASES[error_type]
    app = FastAPI()
    install(app)

    @app.get("/boom", response_model=None)
    async def boom() -> NoReturn:
        raise error

    started = asyncio.Event()

    async def on_startup() -> None:
        started.set()

    app.router.on_startup.append(on_startup)
    sock = listen_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await asyncio.wait_for(started.wait(), timeout=20)
        port = sock.getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            r = await http.get("/boom")
    finally:
        server.should_exit = True
        await task
    body = r.json()
    assert r.status_code == status
    assert body["success"] is False and body["error_code"] == code and body["message"]
    assert isinstance(body["timestamp"], int)
