"""What the operator console shows of Maicraft: each bot's health, food and position from the game state it
polls (or why there is none). Maicraft has no engine jobs, so no job logs or pending reasons."""

from __future__ import annotations

from collections.abc import Sequence

from agenthub.core.nodes import AgentNode
from agenthub.protocols.maicraft.errors import MaicraftError
from agenthub.protocols.maicraft.state import NODE_KIND, MaicraftState
from agenthub.server.console_hooks import ConsoleHooks, NodeLoad


async def describe_load(state: MaicraftState, nodes: Sequence[AgentNode]) -> dict[str, NodeLoad]:
    loads = {}
    for node in nodes:
        bot = state.bots.get(node.node_id)
        if bot is None:
            continue
        try:
            player = bot.game.player()
        except MaicraftError as exc:
            loads[node.node_id] = NodeLoad(f"no game state: {exc.message}")
            continue
        p = player["position"]
        where = ", ".join(f"{p[axis]:.0f}" if isinstance(p[axis], int | float) else "?" for axis in "xyz")
        text = f"health {player['health']}/{player['max_health']}, food {player['food']}, at {where}"
        loads[node.node_id] = NodeLoad(
            text, {"health": player["health"], "food": player["food"], "position": p}
        )
    return loads


CONSOLE: ConsoleHooks[MaicraftState] = ConsoleHooks(
    node_kinds=(NODE_KIND,), job_kinds=(), describe_load=describe_load
)
