"""Serving a further bot's app on its own port, as a supervised loop step of the protocol."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn

from agenthub.protocols.maicraft.app import bot_app
from agenthub.protocols.maicraft.logring import logger
from agenthub.protocols.maicraft.state import BotState

log = logger("Agent")


class _Server(uvicorn.Server):
    """Leaves signal handling to the runner, like the runner's own listeners."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(512)
    except OSError:
        sock.close()
        raise
    return sock


async def serve_bot(bot: BotState) -> None:
    """Runs until cancelled; records the bound address in `bot.url` (port 0 picks a free one)."""
    host = bot.runtime.settings.server.host
    sock = _listen(host, bot.port)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        bot_app(bot), host=host, port=bound, lifespan="off", access_log=False, log_level="warning",
        ws_ping_interval=None, timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = _Server(config)
    bot.url = f"http://{host}:{bound}"
    log.info("bot %s listening on %s", bot.name, bot.url)
    try:
        await server.serve(sockets=[sock])
    except asyncio.CancelledError:
        server.should_exit = True
        raise
    finally:
        bot.url = None
        sock.close()
