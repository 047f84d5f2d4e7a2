"""Seed 000: the Oas2.0 cloud backend (agent jobs, scan jobs, operators), port 7000."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agenthub.server.protocol import ProtocolSpec
    from agenthub.server.runtime import Runtime


async def _on_start(runtime: Runtime) -> None:
    from agenthub.protocols.oas.bootstrap import ensure_super_admin
    from agenthub.protocols.oas.service import TASK_KIND, TASK_POLICY

    runtime.engine.register_kind(TASK_KIND, TASK_POLICY)
    await ensure_super_admin(runtime)


def spec() -> ProtocolSpec:
    from agenthub.protocols.oas.app import create_app
    from agenthub.server.protocol import ProtocolSpec

    return ProtocolSpec(
        name="oas", port=lambda settings: settings.oas.port, create_app=create_app, on_start=_on_start
    )
