"""The user's live channel: `GET /api/v1/user/scan/ws?token=<user token>`.

One connection per user: a new one tells the older ones (on any replica, through the bus) to close.
Messages come from the user's bus channel (what the scan service publishes after each commit) and from the
engine's own events for scan jobs that no request caused: a lease that ran out, the 15-minute deadline.
The server sends `{"type": "ping"}` every 30 s so idle proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from agenthub.core.engine import job_channel
from agenthub.core.jobs import JobStatus
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.scan import messages
from agenthub.protocols.oas.scan.context import from_websocket
from agenthub.protocols.oas.scan.records import SCAN_KIND
from agenthub.protocols.oas.scan.service import LEASE_TIMEOUT, TOTAL_TIMEOUT, ScanService
from agenthub.protocols.oas.security import check_standing, principal_from_token

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
REPLACED = 4000  # a newer connection of the same user took over
ENGINE_CHANNEL = job_channel(SCAN_KIND)


router = APIRouter()


@router.websocket("/api/v1/user/scan/ws")
async def scan_ws(websocket: WebSocket, token: str = "") -> None:
    scans = from_websocket(websocket)
    await websocket.accept()
    try:
        principal = principal_from_token(scans.runtime, token)
        if principal.role != "user":
            raise OasError(403, "权限不足")
        await check_standing(scans.runtime, websocket.app.state.oas.accounts, principal)
    except OasError as exc:
        await websocket.close(code=POLICY_VIOLATION, reason=exc.detail)
        return
    await Connection(websocket, scans, principal.subject_id).serve()


class Connection:
    def __init__(self, websocket: WebSocket, scans: ScanService, user_id: int) -> None:
        self.websocket = websocket
        self.scans = scans
        self.user_id = user_id
        self.id = secrets.token_hex(8)

    async def serve(self) -> None:
        channels = (
            messages.user_channel(self.user_id),
            messages.control_channel(self.user_id),
            ENGINE_CHANNEL,
        )
        async with self.scans.runtime.bus.subscribe(*channels) as subscription:
            await self.scans.runtime.bus.publish(
                messages.control_channel(self.user_id), {"type": "connected", "connection": self.id}
            )
            tasks = [
                asyncio.create_task(self._forward(subscription)),
                asyncio.create_task(self._read()),
                asyncio.create_task(self._ping()),
            ]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        if self.websocket.application_state is not WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await self.websocket.close()

    async def _forward(self, subscription: Any) -> None:
        async for channel, payload in subscription:
            if channel == messages.control_channel(self.user_id):
                if payload.get("connection") != self.id:
                    await self.websocket.close(code=REPLACED, reason="新的连接已建立")
                    return
                continue
            outgoing = payload if channel != ENGINE_CHANNEL else await self._from_engine(payload)
            if outgoing is not None:
                await self.websocket.send_json(outgoing)

    async def _from_engine(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Only what the engine's clocks did; every other change already has its own message."""
        if event.get("subject_id") != self.user_id:
            return None
        kind = event.get("event")
        if kind == "expired":
            return messages.message(messages.FAILED, message=TOTAL_TIMEOUT)
        if kind == "timeout":
            return messages.message(messages.FAILED, message=LEASE_TIMEOUT)
        if kind == "timeout_requeued" and event.get("status") == JobStatus.PENDING.value:
            job = await self.scans.engine.get(int(event["job_id"]))
            position = await self.scans.position(job)
            return messages.message(
                messages.PHASE_CHANGE, phase="waiting", message="执行节点超时，重新排队", position=position
            )
        return None

    async def _read(self) -> None:
        """Client messages are not needed; reading notices the disconnect. A text "ping" gets a pong."""
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                text = await self.websocket.receive_text()
                if text.strip() in ("ping", '{"type":"ping"}', '{"type": "ping"}'):
                    await self.websocket.send_json({"type": "pong"})

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.scans.settings.ws_ping_seconds)
            await self.websocket.send_json({"type": "ping"})
