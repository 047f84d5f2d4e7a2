"""The C&C channel, as one replica sees it: the agents connected here, what they said last, and the
messages that reach them through the bus from any replica.

An agent has at most one live connection in the whole cluster: a newer one replaces the older (here, or on
another replica through the bus) without the agent losing its tasks. A connection that closes, or stays
silent past the seed's 60 s, is offline and its agent loses its tasks (each goes back to the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import WebSocket

from agenthub.core.nodes import NodeSighting
from agenthub.protocols.iac.agent_tasks import AgentTasks
from agenthub.protocols.iac.channels import AGENT_KIND, CONTROL, WAKE, log_channel

log = logging.getLogger(__name__)

SEND_TIMEOUT = 10.0  # the original's write deadline
CLOSE_REPLACED = 4000
CLOSE_SILENT = 4008
LOAD_FIELDS = ("plan_running", "plan_limit", "apply_running", "current_tasks", "cpu_usage", "mem_usage")


@dataclass(frozen=True, slots=True)
class Load:
    """What an agent runs, as its heartbeat says (the dispatcher adds what it pushed since)."""

    plan_running: int = 0
    plan_limit: int = 3
    apply_running: bool = False
    current_tasks: tuple[int, ...] = ()
    cpu_usage: float = 0.0
    mem_usage: float = 0.0

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> Load:
        def number(name: str, default: float) -> float:
            value = payload.get(name, default)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return float(value) if ok and abs(value) < 1e12 else default

        tasks = payload.get("current_tasks")
        ids = (
            tuple(t for t in tasks if isinstance(t, int) and not isinstance(t, bool))
            if isinstance(tasks, list)
            else ()
        )
        return cls(
            plan_running=max(0, int(number("plan_running", 0))),
            plan_limit=max(0, int(number("plan_limit", 3))),
            apply_running=payload.get("apply_running") is True,
            current_tasks=ids[:1000],
            cpu_usage=number("cpu_usage", 0.0),
            mem_usage=number("mem_usage", 0.0),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_running": self.plan_running,
            "plan_limit": self.plan_limit,
            "apply_running": self.apply_running,
            "current_tasks": list(self.current_tasks),
            "cpu_usage": self.cpu_usage,
            "mem_usage": self.mem_usage,
        }


@dataclass(eq=False)
class Connection:
    agent_id: str
    application_id: int
    socket: WebSocket
    connected_at: datetime
    last_ping: datetime
    conn_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    load: Load = field(default_factory=Load)
    replaced: bool = False  # a newer connection took over: closing this one must not cost the agent its tasks
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, kind: str, payload: dict[str, Any]) -> bool:
        text = json.dumps({"type": kind, "payload": payload})
        try:
            async with self._lock:
                await asyncio.wait_for(self.socket.send_text(text), SEND_TIMEOUT)
        except Exception:
            return False
        return True

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.socket.close(code=code, reason=reason)


class ControlHub:
    def __init__(self, tasks: AgentTasks, *, silence: timedelta, wake: Callable[[], None]) -> None:
        self.tasks = tasks
        self.silence = silence
        self._wake = wake
        self.connections: dict[str, Connection] = {}

    def now(self) -> datetime:
        return self.tasks.tasks.now()

    # -- connections -----------------------------------------------------------------------------------------

    async def attach(self, conn: Connection) -> None:
        old = self.connections.get(conn.agent_id)
        self.connections[conn.agent_id] = conn
        if old is not None:
            old.replaced = True
            await old.close(CLOSE_REPLACED, "replaced by a newer connection")
        await self._seen(conn)
        await self.tasks.tasks.bus.publish(CONTROL, {"agent_id": conn.agent_id, "replaced_by": conn.conn_id})
        self._wake()

    async def detach(self, conn: Connection, reason: str) -> None:
        if self.connections.get(conn.agent_id) is conn:
            del self.connections[conn.agent_id]
        if conn.replaced or not await self._still_current(conn):
            return
        await self.tasks.engine.node_gone(AGENT_KIND, conn.agent_id)
        await self.tasks.release_all(conn.agent_id, reason)

    async def _still_current(self, conn: Connection) -> bool:
        """False when a newer connection (on any replica) registered since: the agent came back."""
        node = await self.tasks.engine.node(AGENT_KIND, conn.agent_id)
        return node is None or (node.info or {}).get("conn") == conn.conn_id

    async def _seen(self, conn: Connection) -> None:
        await self.tasks.engine.node_seen(
            NodeSighting(
                kind=AGENT_KIND,
                node_id=conn.agent_id,
                owner_id=conn.application_id,
                info={"conn": conn.conn_id, "load": conn.load.as_dict()},
            )
        )

    # -- messages from the agent -----------------------------------------------------------------------------

    async def on_message(self, conn: Connection, text: str) -> None:
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):
            return
        if not isinstance(message, dict):
            return
        kind, payload = message.get("type"), message.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        handler = self._handlers().get(kind) if isinstance(kind, str) else None
        if handler is not None:  # unknown types are ignored, as the original does
            await handler(conn, payload)

    def _handlers(self) -> dict[str, Callable[[Connection, dict[str, Any]], Awaitable[None]]]:
        return {
            "heartbeat": self._heartbeat,
            "task_completed": self._completed,
            "task_failed": self._failed,
            "log_stream": self._log_stream,
        }

    async def _heartbeat(self, conn: Connection, payload: dict[str, Any]) -> None:
        conn.last_ping = self.now()
        conn.load = Load.parse(payload)
        await self._seen(conn)
        lost = await self.tasks.renew(conn.agent_id, set(conn.load.current_tasks))
        for task_id in sorted(lost):
            # Work the agent no longer owns (given up when its connection dropped, or cancelled): stop it,
            # which also frees the agent's slots for the next push.
            await conn.send("cancel_task", {"task_id": task_id})
        self._wake()

    async def _completed(self, conn: Connection, payload: dict[str, Any]) -> None:
        task_id = _task_id(payload)
        if task_id is not None:
            await self.tasks.agent_finished(conn.agent_id, task_id, None)

    async def _failed(self, conn: Connection, payload: dict[str, Any]) -> None:
        task_id = _task_id(payload)
        if task_id is not None:
            error = payload.get("error")
            text = error if isinstance(error, str) and error else "task failed on the agent"
            await self.tasks.agent_finished(conn.agent_id, task_id, text.replace("\x00", "")[:65536])

    async def _log_stream(self, conn: Connection, payload: dict[str, Any]) -> None:
        task_id = _task_id(payload)
        if task_id is not None:
            await self.tasks.tasks.bus.publish(log_channel(task_id), {**payload, "agent_id": conn.agent_id})

    # -- messages to agents, from any replica ----------------------------------------------------------------

    async def on_bus(self, channel: str, message: dict[str, Any]) -> None:
        if channel == WAKE:
            self._wake()
            return
        conn = self.connections.get(str(message.get("agent_id")))
        if conn is None:
            return
        replaced_by = message.get("replaced_by")
        if replaced_by is not None:
            if replaced_by != conn.conn_id:
                del self.connections[conn.agent_id]
                conn.replaced = True
                await conn.close(CLOSE_REPLACED, "replaced by a newer connection")
            return
        body = message.get("message")
        if isinstance(body, dict) and isinstance(body.get("type"), str):
            await conn.send(body["type"], body.get("payload") or {})

    async def listen(self) -> None:
        """Runs for the life of the replica (a supervised loop restarts it if the bus fails)."""
        async with self.tasks.tasks.bus.subscribe(CONTROL, WAKE) as subscription:
            async for channel, message in subscription:
                try:
                    await self.on_bus(channel, message)
                except Exception:
                    log.exception("iac: could not handle %s", channel)

    # -- silence ---------------------------------------------------------------------------------------------

    async def close_silent(self) -> None:
        """The seed's 60 s: a connection that has not sent a heartbeat for that long is closed and offline."""
        limit = self.now() - self.silence
        for conn in list(self.connections.values()):
            if conn.last_ping < limit:
                log.info("iac: agent %s silent since %s; closing", conn.agent_id, conn.last_ping)
                if self.connections.get(conn.agent_id) is conn:
                    del self.connections[conn.agent_id]
                await conn.close(CLOSE_SILENT, "heartbeat timeout")
                await self.detach(conn, "agent silent for too long")


def _task_id(payload: dict[str, Any]) -> int | None:
    value = payload.get("task_id")
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 < value < 2**63 else None
