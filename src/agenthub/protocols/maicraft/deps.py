"""Route dependencies: the bot a request is for (each bot's app serves exactly one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from agenthub.protocols.maicraft.state import BotState


async def current_bot(conn: HTTPConnection) -> BotState:
    bot: BotState = conn.app.state.bot
    return bot


CurrentBot = Annotated[BotState, Depends(current_bot)]
