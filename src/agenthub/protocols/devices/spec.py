"""The distributed task system (seed 001), as the runner sees it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agenthub.protocols.devices import agent_command
from agenthub.protocols.devices.app import DevicesState, build_state, create_app
from agenthub.protocols.devices.console_hooks import CONSOLE
from agenthub.protocols.devices.service import NODE_KIND, TASK_POLICY
from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.protocols.devices.tables import DEVICES_TABLES
from agenthub.protocols.devices.tasks import TASK_KIND
from agenthub.server.loops import Loop
from agenthub.server.protocol import AgentCommand, ProtocolSpec
from agenthub.server.runtime import Runtime


async def _build(runtime: Runtime, settings: DevicesSettings) -> DevicesState:
    runtime.engine.register_kind(TASK_KIND, TASK_POLICY)
    # The seed's presence rule: no heartbeat (or registration) for this long -> offline.
    runtime.engine.register_node_kind(NODE_KIND, silence=timedelta(seconds=settings.offline_after_seconds))
    return build_state(runtime, settings)


def _loops(state: DevicesState) -> list[Loop]:
    service = state.service
    return [
        Loop("devices-push", 0.5, service.push_step),  # runs until cancelled; restarts after an error
        Loop("devices-dispatch", 0, service.dispatch_step),  # waits for a wake-up or its own interval
        Loop("devices-sweep", service.settings.sweep_interval_seconds, service.sweep),
        Loop("devices-operators", 0.5, service.follow_operators),  # runs until cancelled
    ]


SPEC = ProtocolSpec(
    name="devices",
    settings=DevicesSettings,
    tables=DEVICES_TABLES,
    migrations=Path(__file__).parent / "migrations",
    build=_build,
    create_app=create_app,
    loops=_loops,
    agent=AgentCommand(help=agent_command.HELP, configure=agent_command.configure, run=agent_command.run),
    console=CONSOLE,
)
