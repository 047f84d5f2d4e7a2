"""Every core error (agenthub.core.errors.CORE_ERRORS) reaches the Oas wire as `{"detail": ...}` with its
4xx/503 and the seed's message, never a 500: routes that raise each are mounted on the real Oas app (built by
`create_app(state)` from the state the runner built), served on a real socket."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp

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
from agenthub.protocols.oas.app import create_app
from agenthub.protocols.oas.context import OasContext
from agenthub.protocols.oas.fast_path import AgentFastPath
from agenthub.protocols.oas.spec import SPEC
from agenthub.server.body_limit import BodySizeLimit
from agenthub.server.runner import running
from agenthub.server.runtime import Runtime

CASES: dict[type[EngineError], tuple[EngineError, int, str]] = {
    JobNotFound: (JobNotFound(7), 404, "任务不存在"),
    LeaseMismatch: (LeaseMismatch(7, "NODE-0001"), 403, "租约不匹配"),
    InvalidTransition: (InvalidTransition(7, "success", "start"), 409, "任务状态不允许该操作"),
    Conflict: (Conflict("duplicate key"), 409, "数据冲突"),
    StorageUnavailable: (StorageUnavailable("database down"), 503, "服务暂不可用"),
    InvalidValue: (
        InvalidValue("integer out of range: 9223372036854775808"),
        400,
        "参数错误: integer out of range: 9223372036854775808",
    ),
}


def raiser(error: Exception) -> Callable[[], Awaitable[None]]:
    async def raise_it() -> None:
        raise error

    return raise_it


def with_raising_routes(oas: OasContext) -> ASGIApp:
    served = create_app(oas)
    assert isinstance(served, BodySizeLimit) and isinstance(served.app, AgentFastPath)
    app = served.app.app  # the FastAPI app behind the agents' fast path
    assert isinstance(app, FastAPI)
    for error_type, (error, _, _) in CASES.items():
        app.add_api_route(f"/test/raise/{error_type.__name__}", raiser(error), methods=["POST"])
    return served


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    spec = dataclasses.replace(SPEC, create_app=with_raising_routes)
    async with (
        running(runtime, [spec], host="127.0.0.1", ports={"oas": 0}) as listeners,
        httpx.AsyncClient(base_url=listeners.urls["oas"], timeout=30) as client,
    ):
        yield client


def test_every_core_error_has_a_case() -> None:
    assert set(CASES) == set(CORE_ERRORS)


@pytest.mark.parametrize("error_type", CORE_ERRORS, ids=lambda t: t.__name__)
async def test_core_error_reaches_the_wire_as_detail(
    http: httpx.AsyncClient, error_type: type[EngineError]
) -> None:
    _, status, message = CASES[error_type]
    r = await http.post(f"/test/raise/{error_type.__name__}")
    assert r.status_code == status and (400 <= status < 500 or status == 503)
    assert r.json() == {"detail": message}
