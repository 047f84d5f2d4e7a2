"""`POST /api/dispatch-task` answered by the fast path (fast_path.py) is answered as FastAPI answers it: same
status, same headers that matter, same bytes, for dispatches, queued tasks, refusals and bad bodies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agenthub.core.errors import StorageUnavailable
from agenthub.protocols.devices.fast_path import DispatchFastPath
from agenthub.protocols.devices.spec import SPEC as DEVICES
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from tests.integration.devices.conftest import FAST, Device, DeviceFactory

Client = httpx.AsyncClient
KEY = "fleet-key-1"


class Counting:
    """The FastAPI app, counting the requests that reach it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.protocols["devices"] = FAST.model_copy(update={"max_concurrent_tasks": 2})
    return settings


@pytest.fixture
async def both(devices_url: str, runtime: Runtime) -> AsyncIterator[tuple[Client, Client, Counting]]:
    """The devices app as served (fast path in front) and the bare FastAPI app, on the served state."""
    served: Any = DEVICES.create_app(DEVICES.state_of(runtime))
    fast = served.other_asgi_app.app  # Socket.IO app -> body limit -> fast path
    assert isinstance(fast, DispatchFastPath)
    fast.app = counting = Counting(fast.app)  # type: ignore[assignment]
    plain = httpx.ASGITransport(app=counting.app, raise_app_exceptions=False)
    with_fast = httpx.ASGITransport(app=served, raise_app_exceptions=False)
    async with (
        httpx.AsyncClient(transport=with_fast, base_url="http://devices") as fast_client,
        httpx.AsyncClient(transport=plain, base_url="http://devices") as plain_client,
    ):
        yield fast_client, plain_client, counting


TASK_ID = re.compile(r'"task_id":"[0-9a-f-]{36}"')


def same(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code, (a.text, b.text)
    for header in ("content-type", "content-length"):
        assert a.headers.get(header) == b.headers.get(header), header
    assert TASK_ID.sub('"task_id":_', a.text) == TASK_ID.sub('"task_id":_', b.text)


async def post(client: Client, body: Any, **headers: str) -> httpx.Response:
    if isinstance(body, bytes):
        return await client.post("/api/dispatch-task", content=body, headers=headers)
    return await client.post("/api/dispatch-task", json=body, headers=headers)


DELIST = {"task_type": "DELIST", "data": {"product_ids": ["1", "2"]}}


async def test_dispatches_and_queued_tasks_answer_alike(
    both: tuple[Client, Client, Counting], device: DeviceFactory
) -> None:
    fast, plain, counting = both
    await device("phone_a", "手机甲")  # room for two tasks: one from each app
    named = {**DELIST, "device_id": "phone_a"}
    dispatched = await post(fast, named)
    same(dispatched, await post(plain, named))
    assert dispatched.json()["device_name"] == "手机甲" and dispatched.json()["status"] == "dispatched"
    same(await post(fast, named), await post(plain, named))  # busy now: both refuse alike
    # Every device full: queued, with the seed's message.
    queued = await post(fast, {**DELIST, "timeout": 60})
    same(queued, await post(plain, {**DELIST, "timeout": 60}))
    assert queued.json()["device_id"] is None
    assert counting.calls == 0, counting.calls  # the fast path answered every one of its own


@pytest.mark.parametrize(
    "body",
    [
        {**DELIST, "device_id": "nobody"},  # never registered
        {"data": {"product_ids": ["1"]}},  # no task_type
        {"task_type": "", "data": {}},
        {"task_type": "DANCE", "data": {}},
        {"task_type": "DELIST", "data": {"product_ids": "1"}},
        {"task_type": "DELIST", "data": []},
        {**DELIST, "device_id": 7},
        {**DELIST, "device_id": "x" * 129},
        {**DELIST, "timeout": 0},
        {**DELIST, "timeout": True},
        {**DELIST, "timeout": 10**30},
        [DELIST],
        "DELIST",
        None,
        b"",
        b"{not json",
        b'{"task_type": "DELIST", "data": {"product_ids": ["1"]}, "timeout": NaN}',
        b"[" * 100_000,
    ],
    ids=lambda body: repr(body)[:40],
)
async def test_refusals_answer_alike(body: Any, both: tuple[Client, Client, Counting]) -> None:
    fast, plain, counting = both
    same(await post(fast, body), await post(plain, body))
    assert counting.calls == 0


async def test_no_device_online_answers_alike(both: tuple[Client, Client, Counting]) -> None:
    fast, plain, _counting = both
    same(await post(fast, DELIST), await post(plain, DELIST))


async def test_errors_from_the_engine_answer_alike(
    both: tuple[Client, Client, Counting],
    device: DeviceFactory,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast, plain, _counting = both
    await device()

    async def down(*_args: Any, **_kwargs: Any) -> Any:
        raise StorageUnavailable("down")

    monkeypatch.setattr(runtime.engine, "submit", down)
    same(await post(fast, DELIST), await post(plain, DELIST))

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(runtime.engine, "submit", broken)
    answer = await post(fast, DELIST)
    same(answer, await post(plain, DELIST))
    assert answer.status_code == 500 and "a bug" not in answer.text


async def test_other_calls_go_to_fastapi(both: tuple[Client, Client, Counting]) -> None:
    fast, plain, counting = both
    same(await fast.get("/api/dispatch-task"), await plain.get("/api/dispatch-task"))  # 405
    same(await fast.post("/api/dispatch-task/"), await plain.post("/api/dispatch-task/"))
    assert counting.calls == 2


class TestWithADeviceKey:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        settings.protocols["devices"] = FAST.model_copy(update={"device_key": KEY})
        return settings

    async def test_keys_answer_alike(self, both: tuple[Client, Client, Counting], devices_url: str) -> None:
        fast, plain, counting = both
        for headers in ({}, {"X-Device-Key": "wrong"}, {"X-Device-Key": ""}):
            same(await post(fast, DELIST, **headers), await post(plain, DELIST, **headers))
        assert counting.calls == 0
        assert (await post(fast, DELIST, **{"X-Device-Key": KEY})).json()["success"] is False  # no device
        phone = await Device(f"{devices_url}?device_key={KEY}", "keyed").connect()
        try:
            await phone.register()
            answer = await post(fast, DELIST, **{"X-Device-Key": KEY})
        finally:
            await phone.close()
        assert answer.status_code == 200 and answer.json()["success"] is True
        assert counting.calls == 0

    async def test_a_key_given_twice_goes_to_fastapi(self, both: tuple[Client, Client, Counting]) -> None:
        fast, _plain, counting = both
        twice = [("X-Device-Key", "wrong"), ("X-Device-Key", KEY)]
        answer = await fast.post("/api/dispatch-task", json=DELIST, headers=twice)
        assert counting.calls == 1 and answer.status_code != 500


async def test_a_chunked_body_over_the_limit_is_refused_alike(both: tuple[Client, Client, Counting]) -> None:
    fast, _plain, _counting = both

    async def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 65_536  # 2.5 MiB, over the 1 MB limit, with no length declared

    answer = await fast.post("/api/dispatch-task", content=chunks())
    assert answer.status_code == 413
    assert answer.json() == {"success": False, "message": "请求体过大", "error_code": "PAYLOAD_TOO_LARGE"}
