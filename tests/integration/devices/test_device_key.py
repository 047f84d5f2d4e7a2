"""The optional device key: off by default (the seed's clients work unchanged, see every other test); when
set, a device must give it to connect and every HTTP call must carry it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import socketio

from agenthub.protocols.devices.spec import SPEC
from agenthub.sdk.devices import DeviceClient
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.integration.devices.conftest import FAST, Device, dispatch

KEY = "k3y-for-tests"


@pytest.fixture
def settings(database_url: str) -> Settings:
    settings = make_settings(database_url)
    settings.protocols["devices"] = FAST.model_copy(update={"device_key": KEY})
    return settings


@pytest.fixture
async def keyed_http(devices_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=devices_url, timeout=10, headers={"X-Device-Key": KEY}) as client:
        yield client


async def test_http_needs_the_key(http: httpx.AsyncClient, keyed_http: httpx.AsyncClient) -> None:
    refused = {"success": False, "message": "设备密钥无效", "error_code": "UNAUTHORIZED"}
    for method, path in (
        ("GET", "/"),
        ("GET", "/api/devices"),
        ("GET", "/api/tasks"),
        ("POST", "/api/dispatch-task"),
    ):
        r = await http.request(method, path, json={"task_type": "DELIST"})
        assert (r.status_code, r.json()) == (401, refused), path
    r = await http.get("/api/tasks", headers={"X-Device-Key": KEY + "x"})
    assert r.status_code == 401
    assert (await keyed_http.get("/api/tasks")).status_code == 200
    assert (await keyed_http.get("/")).json()["system"] == "分布式任务系统"


async def test_socketio_needs_the_key(
    devices_url: str, keyed_http: httpx.AsyncClient, runtime: Runtime
) -> None:
    bare = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await bare.connect(devices_url, transports=["websocket"], wait_timeout=5)
    wrong = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await wrong.connect(
            devices_url, transports=["websocket"], wait_timeout=5, auth={"device_key": "nope"}
        )
    assert (await keyed_http.get("/api/devices")).json()["total"] == 0
    namespace = SPEC.state_of(runtime).sio.namespace_handlers["/"]
    assert namespace._in_order == {}  # refused connections leave nothing behind

    by_query = Device(f"{devices_url}?device_key={KEY}", "by_query")
    await by_query.connect()
    await by_query.register()
    task_id = (await dispatch(keyed_http))["task_id"]
    assert (await by_query.next("new_task"))["task_id"] == task_id
    await by_query.close()


async def test_sdk_gives_the_key(devices_url: str, keyed_http: httpx.AsyncClient) -> None:
    async with DeviceClient(devices_url, device_id="sdk_key", device_key=KEY) as client:
        assert client.registered
        [seen] = (await keyed_http.get("/api/devices")).json()["devices"]
        assert seen["device_id"] == "sdk_key" and seen["status"] == "online"
    with pytest.raises(socketio.exceptions.ConnectionError):
        await DeviceClient(devices_url, device_id="sdk_nokey", register_timeout=5).connect()
