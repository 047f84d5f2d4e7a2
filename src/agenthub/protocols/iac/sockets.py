"""The two WebSockets: the seed's C&C channel (`/api/v1/agents/control`) and the operator's live log feed.

Errors before the upgrade are answered as plain HTTP `{"error": ...}` responses (the ASGI denial response),
like every other endpoint; exception handlers do not run for WebSockets, so they are mapped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket

from agenthub.core.errors import EngineError
from agenthub.protocols.iac.channels import log_channel
from agenthub.protocols.iac.context import IacState, ws_state
from agenthub.protocols.iac.control import Connection
from agenthub.protocols.iac.errors import ERRORS, BadRequest, IacError, NotFound, as_response
from agenthub.protocols.iac.schemas import task_id_of
from agenthub.protocols.iac.security import Caller, require_admin

log = logging.getLogger(__name__)

router = APIRouter()


async def _deny(websocket: WebSocket, exc: Exception) -> None:
    response = as_response(exc) if isinstance(exc, IacError) else ERRORS.response(exc)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:
        await websocket.close(code=1008)


async def _control_caller(iac: IacState, websocket: WebSocket) -> Caller:
    """The original's order: credentials (401), agent_id given (400), agent known (404), agent's app (403)."""
    await iac.credentials.application(websocket.headers)
    agent_id = websocket.query_params.get("agent_id", "")
    if not agent_id:
        raise BadRequest("agent_id is required")
    if await iac.repo.agent(agent_id) is None:
        raise NotFound("agent not found")
    return await iac.credentials.caller(websocket.headers, agent_id)


@router.websocket("/api/v1/agents/control")
async def control(websocket: WebSocket) -> None:
    iac = ws_state(websocket)
    try:
        caller = await _control_caller(iac, websocket)
    except (IacError, EngineError) as exc:
        await _deny(websocket, exc)
        return
    await websocket.accept()
    now = iac.tasks.now()
    conn = Connection(
        agent_id=caller.agent_id,
        application_id=caller.application_id,
        socket=websocket,
        connected_at=now,
        last_ping=now,
    )
    try:
        await iac.hub.attach(conn)
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            if text:
                await _handle(iac, conn, text)
    except Exception:
        log.exception("iac: C&C connection of %s failed", conn.agent_id)
    finally:
        await iac.hub.detach(conn, "agent connection closed")


async def _handle(iac: IacState, conn: Connection, text: str) -> None:
    """One message; a failure (say, the database away for a moment) costs that message, not the connection
    and with it the agent's tasks."""
    try:
        await iac.hub.on_message(conn, text)
    except Exception:
        log.exception("iac: message from %s not handled", conn.agent_id)


@router.websocket("/api/v1/admin/tasks/{task_id}/logs/ws")
async def live_logs(websocket: WebSocket, task_id: str) -> None:
    """`log_stream` lines of one task as they come, from whichever replica holds the agent. The admin key
    comes as `X-Admin-Key` or, for browsers, as `?admin_key=`."""
    iac = ws_state(websocket)
    try:
        given = websocket.headers.get("x-admin-key") or websocket.query_params.get("admin_key")
        require_admin(given, iac.admin_key)
        number = task_id_of(task_id)
        await iac.tasks.require_task(number)
    except (IacError, EngineError) as exc:
        await _deny(websocket, exc)
        return
    await websocket.accept()
    async with iac.runtime.bus.subscribe(log_channel(number)) as subscription:
        await websocket.send_json({"type": "subscribed", "payload": {"task_id": number}})
        closed = asyncio.create_task(_until_closed(websocket))
        try:
            while not closed.done():
                item = await subscription.get(timeout=0.5)
                if item is not None:
                    await websocket.send_json({"type": "log_stream", "payload": item[1]})
        except Exception:
            pass  # the operator went away
        finally:
            closed.cancel()
            with contextlib.suppress(BaseException):
                await closed


async def _until_closed(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
