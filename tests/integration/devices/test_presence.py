"""Presence is the engine's: the device's node row says when it was last heard from, the node kind's silence
window (offline_after_seconds) says when it is offline; "busy" and task counts come from held tasks."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from agenthub.core.clock import ManualClock
from agenthub.core.nodes import NodeStatus
from agenthub.protocols.devices.service import NODE_KIND
from agenthub.protocols.devices.spec import SPEC
from agenthub.server.runtime import Runtime
from tests.integration.devices.conftest import DeviceFactory, dispatch, eventually


async def _view(http: httpx.AsyncClient) -> dict[str, Any]:
    [seen] = (await http.get("/api/devices")).json()["devices"]
    assert isinstance(seen, dict)
    return seen


async def test_silence_window_is_the_engines(
    device: DeviceFactory, http: httpx.AsyncClient, runtime: Runtime, clock: ManualClock
) -> None:
    assert runtime.engine.silence("devices") == timedelta(seconds=300)
    dev = await device()
    node = await runtime.engine.node("devices", "android_001")
    assert node is not None and node.status is NodeStatus.ONLINE
    seen = await _view(http)
    assert seen["status"] == "online"
    assert seen["last_heartbeat"] == "2026-03-02T04:00:00+00:00" == node.last_seen_at.isoformat()

    clock.advance(200)
    await dev.client.emit("heartbeat", {"device_id": "android_001"})
    await dev.next("heartbeat_ack")
    clock.advance(200)  # 400 s since it registered, 200 s since its heartbeat: still online
    seen = await _view(http)
    assert seen["status"] == "online" and seen["last_heartbeat"] == "2026-03-02T04:03:20+00:00"
    assert (await http.get("/")).json()["connected_devices"] == 1

    clock.advance(101)  # 301 s of silence: offline at once, read through the engine (no sweep needed)
    seen = await _view(http)
    assert seen["status"] == "offline" and seen["last_heartbeat"] == "2026-03-02T04:03:20+00:00"
    assert (await http.get("/")).json()["connected_devices"] == 0
    r = await http.post("/api/dispatch-task", json={"task_type": "DELIST", "data": {"product_ids": ["1"]}})
    assert r.status_code == 200 and r.json()["error_code"] == "NO_AVAILABLE_DEVICE"


async def test_busy_and_task_count_come_from_held_tasks(
    device: DeviceFactory, http: httpx.AsyncClient, runtime: Runtime
) -> None:
    dev = await device()
    ids = [(await dispatch(http))["task_id"] for _ in range(3)]
    seen = await _view(http)
    assert seen["status"] == "busy" and seen["task_count"] == 3 and seen["max_concurrent_tasks"] == 3
    for _ in ids:
        await dev.next("new_task")
    await dev.result(ids[0])
    await dev.next("task_result_ack")
    seen = await _view(http)
    assert seen["status"] == "online" and seen["task_count"] == 2
    # The engine's node row knows nothing of tasks; it only says the device is there.
    node = await runtime.engine.node("devices", "android_001")
    assert node is not None and runtime.engine.is_online(node)


async def test_disconnect_is_offline_at_once_in_the_engine_too(
    device: DeviceFactory, http: httpx.AsyncClient, runtime: Runtime
) -> None:
    dev = await device()
    await dev.close()

    async def gone() -> bool:
        node = await runtime.engine.node("devices", "android_001")
        return node is not None and node.status is NodeStatus.OFFLINE

    await eventually(gone)
    seen = await _view(http)
    assert seen["status"] == "offline" and seen["connection_info"]["sid"] is None


async def test_a_late_disconnect_of_the_old_connection_does_not_leave_a_reconnected_device_offline(
    devices_url: str, runtime: Runtime
) -> None:
    """The old connection's disconnect is handled while the device registers on a new one (the network
    dropped and the client came straight back): whichever way the two interleave, the device ends online on
    its new connection. (Registering marked the node seen before recording the connection, so a disconnect
    handled in between left it offline until a heartbeat 30 s later: a CI flake.)"""
    service = SPEC.state_of(runtime).service
    await service.register("old-sid", {"device_id": "phone-9"})
    for old, new in (("old-sid", "new-sid"), ("new-sid", "third-sid")):
        await asyncio.gather(
            service.disconnected("phone-9", old), service.register(new, {"device_id": "phone-9"})
        )
        registration = await service.repo.get("phone-9")
        assert registration is not None and registration.sid == new
        node = await runtime.engine.node(NODE_KIND, "phone-9")
        assert node is not None and node.status is NodeStatus.ONLINE, (old, new)


async def test_the_sweep_leaves_a_device_whose_sighting_is_on_the_way(
    device: DeviceFactory, runtime: Runtime, clock: ManualClock
) -> None:
    """Registering writes the connection first and the node's sighting after it; a sweep that runs in
    between must not take the new device for a silent one and close it (a flake of the Node client test on a
    loaded machine: `connected`, then the server's disconnect, then nothing). Past the silence window with no
    sighting, the same connection is closed."""
    state = SPEC.state_of(runtime)
    service = state.service

    async def registered_unseen(device_id: str) -> str:
        sid = (await device(device_id, register=False)).client.get_sid()
        await service.repo.register(
            device_id=device_id, name="phone", device_type="android", info={}, sid=sid, now=clock.now()
        )
        return str(sid)

    coming = await registered_unseen("phone-7")
    await service.sweep()
    assert state.sio.manager.is_connected(coming, "/")

    silent = await registered_unseen("phone-8")
    clock.advance(301)  # registered past the window and never seen since
    await service.sweep()
    assert not state.sio.manager.is_connected(silent, "/")
