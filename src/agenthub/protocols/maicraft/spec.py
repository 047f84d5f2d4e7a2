"""MaicraftAgent API (seed 002), as the runner sees it."""

from __future__ import annotations

from pathlib import Path

from agenthub.protocols.maicraft import agent_command
from agenthub.protocols.maicraft.app import create_app
from agenthub.protocols.maicraft.console_hooks import CONSOLE
from agenthub.protocols.maicraft.listeners import serve_bot
from agenthub.protocols.maicraft.settings import DEFAULT_BOT, MaicraftSettings
from agenthub.protocols.maicraft.state import BotState, MaicraftState, build_state, close_state
from agenthub.protocols.maicraft.tables import MAICRAFT_TABLES
from agenthub.server.loops import Loop
from agenthub.server.protocol import AgentCommand, ProtocolSpec


def _bot_loops(bot: BotState) -> list[Loop]:
    loops = [Loop(f"maicraft-poll-{bot.name}", bot.settings.poll_interval_seconds, bot.game.poll)]
    if bot.link is not None:
        # run_once serves the MCP server until it dies and waits out its backoff itself.
        loops.append(Loop(f"maicraft-mcp-{bot.name}", 0, bot.link.run_once))
    if bot.name != DEFAULT_BOT:

        async def listen() -> None:
            await serve_bot(bot)

        loops.append(Loop(f"maicraft-listen-{bot.name}", 1.0, listen))
    return loops


def _loops(state: MaicraftState) -> list[Loop]:
    return [loop for bot in state.bots.values() for loop in _bot_loops(bot)]


SPEC = ProtocolSpec(
    name="maicraft",
    settings=MaicraftSettings,
    tables=MAICRAFT_TABLES,
    migrations=Path(__file__).parent / "migrations",
    build=build_state,
    create_app=create_app,
    loops=_loops,
    close=close_state,
    agent=AgentCommand(help=agent_command.HELP, configure=agent_command.configure, run=agent_command.run),
    console=CONSOLE,
)
