"""The IaC agent platform (seed 004), as the runner sees it."""

from __future__ import annotations

from pathlib import Path

from agenthub.core.jobs import KindPolicy
from agenthub.protocols.iac import agent_command
from agenthub.protocols.iac.app import create_app
from agenthub.protocols.iac.channels import AGENT_KIND, TASK_KIND
from agenthub.protocols.iac.console_hooks import CONSOLE
from agenthub.protocols.iac.context import IacState, open_state
from agenthub.protocols.iac.settings import IacSettings
from agenthub.protocols.iac.tables import IAC_TABLES
from agenthub.server.loops import Loop
from agenthub.server.protocol import AgentCommand, ProtocolSpec
from agenthub.server.runtime import Runtime


async def _build(runtime: Runtime, settings: IacSettings) -> IacState:
    state = await open_state(runtime, settings)
    runtime.engine.register_kind(TASK_KIND, KindPolicy())
    runtime.engine.register_node_kind(AGENT_KIND, silence=state.hub.silence)
    return state


def _loops(iac: IacState) -> list[Loop]:
    return [
        Loop("iac-dispatch", 0.0, iac.dispatcher.step),
        Loop("iac-bus", 0.5, iac.hub.listen),
        Loop("iac-silence", iac.settings.watchdog_interval_seconds, iac.hub.close_silent),
    ]


SPEC = ProtocolSpec(
    name="iac",
    settings=IacSettings,
    tables=IAC_TABLES,
    migrations=Path(__file__).parent / "migrations",
    build=_build,
    create_app=create_app,
    loops=_loops,
    agent=AgentCommand(help=agent_command.HELP, configure=agent_command.configure, run=agent_command.run),
    console=CONSOLE,
)
