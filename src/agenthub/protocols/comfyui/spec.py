"""The ComfyUI agent platform (seed 003), as the runner sees it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agenthub.protocols.comfyui import agent_command
from agenthub.protocols.comfyui.app import create_app
from agenthub.protocols.comfyui.console_hooks import CONSOLE
from agenthub.protocols.comfyui.context import ComfyuiContext, open_context
from agenthub.protocols.comfyui.kinds import NODE_KIND, TASK_KIND
from agenthub.protocols.comfyui.service import task_policy
from agenthub.protocols.comfyui.settings import ComfyuiSettings
from agenthub.protocols.comfyui.tables import COMFYUI_TABLES
from agenthub.server.loops import Loop
from agenthub.server.protocol import AgentCommand, ProtocolSpec
from agenthub.server.runtime import Runtime


async def _build(runtime: Runtime, settings: ComfyuiSettings) -> ComfyuiContext:
    # Refuses to start in production with AGENT_DEBUG_TOKENS set, or without keys.
    context = await open_context(runtime, settings)
    runtime.engine.register_kind(TASK_KIND, task_policy(settings))
    # Agents heartbeat every 30 s by default; a few missed beats and the engine calls them offline.
    runtime.engine.register_node_kind(NODE_KIND, silence=timedelta(seconds=settings.agent_silence_seconds))
    return context


async def _close(comfy: ComfyuiContext) -> None:
    await comfy.close()


def _loops(comfy: ComfyuiContext) -> list[Loop]:
    # The step waits for the doorbell (a new task) or the push interval itself, so no pause between steps.
    return [Loop("comfyui-push", 0, comfy.pusher.step)]


SPEC = ProtocolSpec(
    name="comfyui",
    settings=ComfyuiSettings,
    tables=COMFYUI_TABLES,
    migrations=Path(__file__).parent / "migrations",
    build=_build,
    create_app=create_app,
    loops=_loops,
    close=_close,
    agent=AgentCommand(help=agent_command.HELP, configure=agent_command.configure, run=agent_command.run),
    console=CONSOLE,
)
