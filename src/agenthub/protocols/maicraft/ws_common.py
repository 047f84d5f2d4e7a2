"""What every Maicraft WebSocket shares: a welcome on connect, the seed's ping/pong (echoing the client's
timestamp), error messages with the seed's codes, closing silent clients, and a per-subscriber bounded
queue drained by its own sender task, so one slow client never delays the others."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.websockets import WebSocket, WebSocketDisconnect

from agenthub.protocols.maicraft.envelope import now_ms
from agenthub.protocols.maicraft.errors import MaicraftError
from agenthub.protocols.maicraft.logring import logger

log = logger("WebSocket")

INVALID_JSON = "INVALID_JSON"
UNKNOWN_MESSAGE_TYPE = "UNKNOWN_MESSAGE_TYPE"
INVALID_INTERVAL = "INVALID_INTERVAL"
MESSAGE_PROCESSING_ERROR = "MESSAGE_PROCESSING_ERROR"
SUBSCRIPTION_ERROR = "SUBSCRIPTION_ERROR"


def error_message(code: str, message: str) -> dict[str, Any]:
    # The seed names the key errorCode; the original's game and task sockets said error_code: both are sent.
    return {"type": "error", "errorCode": code, "error_code": code, "message": message, "timestamp": now_ms()}


class Subscriber:
    """One connected client: pushes go through its own bounded queue; when it is full the oldest push is
    dropped (every push carries a full state, so the newest is what matters)."""

    def __init__(self, ws: WebSocket, queue_size: int) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.dropped = 0
        self.closed = False

    def offer(self, message: Mapping[str, Any]) -> None:
        self.offer_text(json.dumps(message, ensure_ascii=False))

    def offer_text(self, text: str) -> None:
        if self.closed:
            return
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
                self.dropped += 1
        self.queue.put_nowait(text)

    async def send_forever(self) -> None:
        try:
            while True:
                await self.ws.send_text(await self.queue.get())
        except Exception:  # the client went away; the receive side notices and cleans up
            self.closed = True


Handler = Callable[[Subscriber, dict[str, Any]], Awaitable[None]]


class SocketError(Exception):
    """A message the handler refuses, answered with an `error` message (the socket stays open)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Heartbeat:
    interval: float  # server pings and the welcome's heartbeat_interval
    timeout: float  # a client silent this long is closed
    # "interval": ping at connect and every interval; "periodic": every interval; "silence": after
    # `interval` of client silence (the original's token-usage socket).
    mode: Literal["interval", "periodic", "silence"] = "interval"
    welcome_config: bool = True


async def serve_socket(
    ws: WebSocket,
    *,
    heartbeat: Heartbeat,
    handlers: Mapping[str, Handler],
    queue_size: int,
    welcome: str,
    on_open: Callable[[Subscriber], None] | None = None,
    on_close: Callable[[Subscriber], None] | None = None,
) -> None:
    await ws.accept()
    sub = Subscriber(ws, queue_size)
    hello: dict[str, Any] = {"type": "welcome", "message": welcome, "timestamp": now_ms()}
    if heartbeat.welcome_config:
        hello["config"] = {"heartbeat_interval": int(heartbeat.interval), "timeout": int(heartbeat.timeout)}
    sub.offer(hello)
    last_heard = time.monotonic()
    last_pong = 0.0

    async def pinger() -> None:
        if heartbeat.mode == "interval":
            sub.offer(_ping())
        while True:
            await asyncio.sleep(heartbeat.interval if heartbeat.mode != "silence" else 1.0)
            if heartbeat.mode != "silence" or time.monotonic() - last_heard >= heartbeat.interval:
                sub.offer(_ping())

    sender = asyncio.create_task(sub.send_forever())
    pings = asyncio.create_task(pinger())
    if on_open is not None:
        on_open(sub)
    try:
        while not sub.closed:
            try:
                text = await asyncio.wait_for(ws.receive_text(), timeout=heartbeat.timeout)
            except TimeoutError:
                await ws.close(code=1000, reason="heartbeat timeout")
                break
            last_heard = time.monotonic()
            try:
                message = json.loads(text)
            except ValueError:
                sub.offer(error_message(INVALID_JSON, "无效的JSON格式"))
                continue
            if not isinstance(message, dict):
                sub.offer(error_message(INVALID_JSON, "消息必须是JSON对象"))
                continue
            kind = message.get("type")
            if kind == "ping":
                if time.monotonic() - last_pong >= 1.0:  # the original answers at most one ping a second
                    last_pong = time.monotonic()
                    sub.offer(
                        {"type": "pong", "timestamp": message.get("timestamp"), "server_timestamp": now_ms()}
                    )
                continue
            if kind == "pong":
                continue
            handler = handlers.get(kind) if isinstance(kind, str) else None
            if handler is None:
                sub.offer(error_message(UNKNOWN_MESSAGE_TYPE, f"未知消息类型: {kind}"))
                continue
            try:
                await handler(sub, message)
            except SocketError as exc:
                sub.offer(error_message(exc.code, exc.message))
            except MaicraftError as exc:
                sub.offer(error_message(exc.code, exc.message))
            except Exception as exc:
                log.exception("message %s failed", kind)
                sub.offer(error_message(MESSAGE_PROCESSING_ERROR, f"消息处理失败: {exc}"))
    except WebSocketDisconnect:
        pass
    except RuntimeError:  # receive after the client closed
        pass
    finally:
        sub.closed = True
        if on_close is not None:
            on_close(sub)
        pings.cancel()
        sender.cancel()
        await asyncio.gather(pings, sender, return_exceptions=True)


def _ping() -> dict[str, Any]:
    return {"type": "ping", "timestamp": now_ms(), "message": "服务器心跳"}


def interval_of(message: dict[str, Any], *, default: int, low: int, high: int) -> int:
    value = message.get("update_interval", default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SocketError(INVALID_INTERVAL, f"无效的更新间隔: 必须是{low}-{high}之间的整数(毫秒)")
    return value
