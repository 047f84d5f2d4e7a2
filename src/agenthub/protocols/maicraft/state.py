"""The protocol's state: the shared log ring, and per bot its MCP link, game state, repository and live
feeds. The default bot answers on the protocol's port; each further bot on its own port."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agenthub.core.nodes import NodeSighting
from agenthub.protocols.maicraft.errors import ValidationFailed
from agenthub.protocols.maicraft.feeds import Broadcast, GameFeed, LogFeed
from agenthub.protocols.maicraft.game import BotGame
from agenthub.protocols.maicraft.logring import LogRing, logger
from agenthub.protocols.maicraft.mcp_link import (
    McpCommand,
    McpLink,
    command_line,
    config_file,
    shipped_command,
)
from agenthub.protocols.maicraft.records import Task, TokenUsage, tasks_overview, usage_summary
from agenthub.protocols.maicraft.repository import MaicraftRepository
from agenthub.protocols.maicraft.settings import DEFAULT_BOT, BotConfig, MaicraftSettings
from agenthub.protocols.maicraft.ws_common import Subscriber
from agenthub.server.runtime import Runtime

NODE_KIND = "maicraft.bot"
log = logger("Agent")


@dataclass
class BotState:
    name: str
    port: int
    settings: MaicraftSettings
    runtime: Runtime
    ring: LogRing
    repo: MaicraftRepository
    link: McpLink | None
    game: BotGame
    username: str
    player_feed: GameFeed = field(init=False)
    world_feed: GameFeed = field(init=False)
    marker_feed: GameFeed = field(init=False)
    tasks_feed: Broadcast = field(default_factory=Broadcast)
    token_feed: Broadcast = field(default_factory=Broadcast)
    log_feed: LogFeed = field(default_factory=LogFeed)
    log_clients: set[Subscriber] = field(default_factory=set)
    url: str | None = None
    _last_seen: float = 0.0

    def __post_init__(self) -> None:
        self.player_feed = GameFeed("player", self.game.player)
        self.world_feed = GameFeed("world", self.game.world)
        self.marker_feed = GameFeed("marker", self.game.markers)

    async def seen(self) -> None:
        """Engine presence: the bot is online while its MCP server answers (throttled)."""
        if time.monotonic() - self._last_seen < self.settings.node_seen_interval_seconds:
            return
        self._last_seen = time.monotonic()
        info: dict[str, Any] = {
            "username": self.username,
            "port": self.port,
            "game_ready": self.game.error is None,
        }
        await self.runtime.engine.node_seen(NodeSighting(NODE_KIND, self.name, version="1.0.0", info=info))

    # -- to-do tasks (pushed to every other subscriber) -----------------------------------------------

    async def task_overview(self) -> dict[str, Any]:
        return tasks_overview(await self.repo.tasks(), self.settings.goal)

    async def push_tasks(self, exclude: Subscriber | None) -> None:
        message = {"type": "tasks_update", "timestamp": _ms(), "data": await self.task_overview()}
        self.tasks_feed.send(message, exclude=exclude)

    async def add_task(self, details: str, done_criteria: str) -> Task:
        if not details.strip():
            raise ValidationFailed("任务详情不能为空")
        if not done_criteria.strip():
            raise ValidationFailed("完成条件不能为空")
        return await self.repo.add_task(
            details=details,
            done_criteria=done_criteria,
            now=datetime.now(UTC),
            max_tasks=self.settings.max_tasks,
        )

    # -- token usage ----------------------------------------------------------------------------------

    async def record_usage(self, model_name: str, prompt_tokens: int, completion_tokens: int) -> TokenUsage:
        price = self.settings.model_prices.get(model_name)
        cost = 0.0
        if price is not None:
            cost = prompt_tokens / 1e6 * price.input + completion_tokens / 1e6 * price.output
        usage = await self.repo.record_usage(
            model_name=model_name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=cost,
            at=round(time.time(), 3),
        )
        if self.token_feed.subs:
            summary = usage_summary(await self.repo.usages())
            message = {
                "type": "token_usage_update",
                "timestamp": _ms(),
                "data": {"model_name": model_name, "usage": usage.wire(), "summary": summary},
            }
            self.token_feed.send(message, accept=lambda f: not f or str(f) in model_name)
        return usage

    async def close(self) -> None:
        for feed in (self.player_feed, self.world_feed, self.marker_feed):
            await feed.close()
        self.ring.listeners.discard(self.log_feed.on_entry)


@dataclass
class MaicraftState:
    runtime: Runtime
    settings: MaicraftSettings
    ring: LogRing
    bots: dict[str, BotState]

    @property
    def default(self) -> BotState:
        return self.bots[DEFAULT_BOT]


def _ms() -> int:
    return int(time.time() * 1000)


def _command(settings: MaicraftSettings, bot: BotConfig | None) -> tuple[McpCommand, str]:
    username = (bot.mc_username if bot else None) or settings.mc_username
    line = bot.mcp_command if bot and bot.mcp_command else None
    if line is None and bot is None:
        line = settings.mcp_command
    if line:
        return command_line(line), username
    if bot is None and settings.mcp_config:
        return config_file(settings.mcp_config), username
    return (
        shipped_command(
            host=(bot.mc_host if bot else None) or settings.mc_host,
            port=(bot.mc_port if bot else None) or settings.mc_port,
            username=username,
            version=settings.mc_version,
        ),
        username,
    )


def make_bot(runtime: Runtime, settings: MaicraftSettings, ring: LogRing, bot: BotConfig | None) -> BotState:
    command, username = _command(settings, bot)
    link = (
        McpLink(
            command,
            call_timeout=settings.mcp_call_timeout_seconds,
            restart_max=settings.mcp_restart_max_seconds,
        )
        if settings.mcp_enabled
        else None
    )
    holder: list[BotState] = []

    async def on_answer() -> None:
        await holder[0].seen()

    game = BotGame(
        link,
        area_radius=settings.area_radius,
        area_interval=settings.area_poll_interval_seconds,
        entity_range=settings.entity_range,
        on_answer=on_answer,
    )
    name = bot.name if bot else DEFAULT_BOT
    state = BotState(
        name=name,
        port=bot.port if bot else settings.port,
        settings=settings,
        runtime=runtime,
        ring=ring,
        repo=MaicraftRepository(runtime.db, name),
        link=link,
        game=game,
        username=username,
    )
    holder.append(state)
    ring.listeners.add(state.log_feed.on_entry)
    return state


async def build_state(runtime: Runtime, settings: MaicraftSettings) -> MaicraftState:
    runtime.engine.register_node_kind(
        NODE_KIND, silence=timedelta(seconds=max(30.0, settings.node_seen_interval_seconds * 6))
    )
    ring = LogRing(settings.log_capacity, settings.log_level)
    ring.attach()
    bots = {DEFAULT_BOT: make_bot(runtime, settings, ring, None)}
    for extra in settings.bots:
        if extra.name in bots:
            raise ValueError(f"maicraft: bot name {extra.name!r} is used twice")
        bots[extra.name] = make_bot(runtime, settings, ring, extra)
    log.info("MaicraftAgent API ready for bots: %s", ", ".join(bots))
    return MaicraftState(runtime, settings, ring, bots)


async def close_state(state: MaicraftState) -> None:
    for bot in state.bots.values():
        await bot.close()
        if bot.link is not None:
            try:
                await state.runtime.engine.node_gone(NODE_KIND, bot.name)
            except Exception:  # the database may already be going away at shutdown
                log.warning("could not mark bot %s offline", bot.name)
    state.ring.detach()
