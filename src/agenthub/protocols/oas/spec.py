"""The Oas2.0 protocol (seed 000), as the runner sees it."""

from __future__ import annotations

from pathlib import Path

from agenthub.protocols.oas import agent_command
from agenthub.protocols.oas.app import create_app
from agenthub.protocols.oas.bootstrap import ensure_super_admin
from agenthub.protocols.oas.console_hooks import CONSOLE
from agenthub.protocols.oas.context import OasContext
from agenthub.protocols.oas.operator_tables import OPERATOR_TABLES
from agenthub.protocols.oas.scan.records import SCAN_KIND
from agenthub.protocols.oas.scan.service import SCAN_POLICY
from agenthub.protocols.oas.scan.tables import SCAN_TABLES
from agenthub.protocols.oas.service import TASK_KIND, TASK_POLICY
from agenthub.protocols.oas.settings import OasSettings
from agenthub.protocols.oas.tables import OAS_TABLES
from agenthub.server.loops import Loop
from agenthub.server.protocol import AgentCommand, ProtocolSpec
from agenthub.server.runtime import Runtime


async def _build(runtime: Runtime, settings: OasSettings) -> OasContext:
    runtime.engine.register_kind(TASK_KIND, TASK_POLICY)
    runtime.engine.register_kind(SCAN_KIND, SCAN_POLICY)
    await ensure_super_admin(runtime, settings)
    return OasContext(runtime, settings)


def _loops(oas: OasContext) -> list[Loop]:
    loops = [
        Loop("oas-scan-users-gone", oas.scans.settings.sweep_interval_seconds, oas.scans.cancel_abandoned),
        # Runs for the replica's life; restarted after a second if the bus subscription fails.
        Loop("oas-account-invalidations", 1.0, oas.accounts.listen),
    ]
    if oas.settings.scheduler_enabled:
        loops.append(Loop("oas-scheduler", oas.settings.scheduler_interval_seconds, oas.scheduler.step))
    return loops


async def _close(oas: OasContext) -> None:
    await oas.notifier.drain()


SPEC = ProtocolSpec(
    name="oas",
    settings=OasSettings,
    tables=(*OAS_TABLES, *SCAN_TABLES, *OPERATOR_TABLES),
    migrations=Path(__file__).parent / "migrations",
    build=_build,
    create_app=create_app,
    loops=_loops,
    close=_close,
    agent=AgentCommand(help=agent_command.HELP, configure=agent_command.configure, run=agent_command.run),
    console=CONSOLE,
)
