"""Seed 000: the Oas2.0 cloud backend (agent jobs, scan jobs, operators), port 7000."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agenthub.server.loops import Loop
    from agenthub.server.protocol import ProtocolSpec
    from agenthub.server.runtime import Runtime


async def _on_start(runtime: Runtime) -> None:
    from agenthub.protocols.oas.bootstrap import ensure_super_admin
    from agenthub.protocols.oas.scan.records import SCAN_KIND
    from agenthub.protocols.oas.scan.service import SCAN_POLICY
    from agenthub.protocols.oas.service import TASK_KIND, TASK_POLICY

    runtime.engine.register_kind(TASK_KIND, TASK_POLICY)
    runtime.engine.register_kind(SCAN_KIND, SCAN_POLICY)
    await ensure_super_admin(runtime)


def _loops(runtime: Runtime) -> list[Loop]:
    from agenthub.protocols.oas.app import oas_context
    from agenthub.protocols.oas.scan.loops import loops as scan_loops
    from agenthub.server.loops import Loop

    loops = scan_loops(runtime)
    settings = runtime.settings.oas
    if settings.scheduler_enabled:
        scheduler = oas_context(runtime).scheduler
        loops.append(Loop("oas-scheduler", settings.scheduler_interval_seconds, scheduler.step))
    return loops


async def _on_stop(runtime: Runtime) -> None:
    from agenthub.protocols.oas.app import oas_context

    await oas_context(runtime).notifier.drain()


def spec() -> ProtocolSpec:
    from agenthub.protocols.oas.app import create_app
    from agenthub.server.protocol import ProtocolSpec

    return ProtocolSpec(
        name="oas",
        port=lambda settings: settings.oas.port,
        create_app=create_app,
        loops=_loops,
        on_start=_on_start,
        on_stop=_on_stop,
    )
