"""Live updates: Server-Sent Events from the engine's announcements on the bus (`jobs.<kind>` for every
protocol's kinds, and `nodes`), which cross replicas through Redis, plus the sparkline figures after
every sample. The browser's EventSource reconnects by itself; a session that expires ends the stream."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from starlette.responses import StreamingResponse

from agenthub.console.context import Console, CurrentOperator
from agenthub.console.service import ConsoleService
from agenthub.console.sessions import Operator
from agenthub.core.engine import NODES_CHANNEL

router = APIRouter(prefix="/api")
KEEPALIVE_SECONDS = 15.0


def frame(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(jsonable_encoder(data), ensure_ascii=False)}\n\n"


@router.get("/stream")
async def stream(request: Request, console: Console, operator: CurrentOperator) -> StreamingResponse:
    return StreamingResponse(
        _events(request, console, operator),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(request: Request, console: ConsoleService, operator: Operator) -> AsyncIterator[str]:
    async with console.runtime.bus.subscribe(*console.channels(), NODES_CHANNEL) as subscription:
        yield "retry: 2000\n\n" + frame("hello", {"username": operator.username})
        yield frame("stats", console.pulse.view())
        stats_sent = time.monotonic()
        interval = console.settings.sample_seconds
        while not await request.is_disconnected():
            if console.runtime.clock.now() >= operator.expires_at:
                yield frame("logout", {"reason": "session expired"})
                return
            item = await subscription.get(timeout=min(interval, KEEPALIVE_SECONDS))
            if item is not None:
                channel, message = item
                if channel == NODES_CHANNEL:
                    yield frame("node", message)
                else:
                    yield frame("job", {**message, "protocol": console.protocol_of_job(message["kind"])})
            if time.monotonic() - stats_sent >= interval:
                yield frame("stats", console.pulse.view())
                stats_sent = time.monotonic()
            elif item is None:
                yield ": keepalive\n\n"
