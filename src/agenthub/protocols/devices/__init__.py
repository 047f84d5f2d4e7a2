"""Seed 001: the distributed task system (devices over Socket.IO, tasks dispatched over HTTP), port 1888."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agenthub.server.loops import Loop
    from agenthub.server.protocol import ProtocolSpec
    from agenthub.server.runtime import Runtime


async def _on_start(runtime: Runtime) -> None:
    from agenthub.protocols.devices.service import TASK_POLICY
    from agenthub.protocols.devices.tasks import TASK_KIND

    runtime.engine.register_kind(TASK_KIND, TASK_POLICY)


def _loops(runtime: Runtime) -> list[Loop]:
    from agenthub.protocols.devices.app import devices_service
    from agenthub.server.loops import Loop

    service = devices_service(runtime)
    settings = runtime.settings.devices
    return [
        Loop("devices-push", 0.5, service.push_step),  # runs until cancelled; restarts after an error
        Loop("devices-dispatch", 0, service.dispatch_step),  # waits for a wake-up or its own interval
        Loop("devices-sweep", settings.sweep_interval_seconds, service.sweep),
    ]


def spec() -> ProtocolSpec:
    from agenthub.protocols.devices.app import create_app
    from agenthub.server.protocol import ProtocolSpec

    return ProtocolSpec(
        name="devices",
        port=lambda settings: settings.devices.port,
        create_app=create_app,
        loops=_loops,
        on_start=_on_start,
    )
