"""The Socket.IO side: one namespace ("/"), one room per device_id, the seed's events and payloads.

The namespace owns the transport: it reads events, asks the service, and answers; errors the service raises
go out as `error` events through the devices error table. `SocketPush` is how the service's background loops
send to devices (`new_task`, `cancel_task`, closing a silent device's connection).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
from typing import Any
from urllib.parse import parse_qs

import socketio
from socketio.exceptions import ConnectionRefusedError as Refused

from agenthub.protocols.devices.errors import SOCKET_ERRORS, socket_error
from agenthub.protocols.devices.service import DevicesService, iso
from agenthub.protocols.devices.tasks import json_problem
from agenthub.server.errors import WireError

log = logging.getLogger(__name__)

MAX_DEVICE_ID = 128
KNOWN_EVENTS = frozenset(
    {"connect", "disconnect", "device_register", "heartbeat", "task_result", "task_progress"}
)
NOT_REGISTERED = WireError(400, "NOT_REGISTERED", "设备未注册")
STALE_CONNECTION = WireError(400, "NOT_REGISTERED", "设备连接已失效，请重新注册")
WRONG_KEY = {"message": "设备密钥无效", "error_code": "UNAUTHORIZED"}


class SocketPush:
    """The service's `DevicePush` over the Socket.IO server: rooms are device ids."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def send_task(self, device_id: str, payload: dict[str, Any]) -> None:
        await self.sio.emit("new_task", payload, room=device_id)

    async def cancel(self, device_id: str, task_id: str | None) -> None:
        await self.sio.emit("cancel_task", {"type": "cancel_task", "task_id": task_id}, room=device_id)

    async def drop(self, sid: str) -> None:
        await self.sio.disconnect(sid)

    def connected_here(self, device_id: str) -> bool:
        return bool(self.sio.manager.rooms.get("/", {}).get(device_id))


class DevicesNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(self, service: DevicesService) -> None:
        super().__init__("/")
        self.service = service
        # One lock per connection: its events are handled one at a time, in the order they arrived, so a
        # device's last progress report is never handled after its result. (python-socketio starts a task
        # per event in arrival order, and each takes its place in the lock's FIFO before its first await;
        # the transport's own pings stay outside, so a slow database never looks like a dead device.)
        self._in_order: dict[str, asyncio.Lock] = {}

    async def trigger_event(self, event: str, *args: Any) -> Any:
        sid = args[0] if args else None
        if not isinstance(sid, str):
            return await self._handle(event, sid, args)
        lock = self._in_order.get(sid)
        if lock is None:
            lock = self._in_order[sid] = asyncio.Lock()
        try:
            async with lock:
                return await self._handle(event, sid, args)
        except Refused:
            self._in_order.pop(sid, None)  # a refused connection never sends a disconnect
            raise
        finally:
            if event == "disconnect":
                self._in_order.pop(sid, None)

    async def _handle(self, event: str, sid: str | None, args: tuple[Any, ...]) -> Any:
        if event not in KNOWN_EVENTS:
            await self._error(sid, WireError(400, "UNKNOWN_EVENT", f"未知事件: {event}"))
            return None
        try:
            return await super().trigger_event(event, *args)
        except Refused:
            raise  # a refused connection: python-socketio answers it
        except Exception as exc:
            wire = SOCKET_ERRORS.wire(exc)
            if wire is SOCKET_ERRORS.internal:
                log.exception("devices: %s from %s failed", event, sid)
            await self._error(sid, wire)
            return None

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        expected = self.service.settings.device_key
        if expected and not hmac.compare_digest(_given_key(environ, auth).encode(), expected.encode()):
            raise Refused(WRONG_KEY)
        # python-socketio keeps the connection's first request environ for as long as it stays connected;
        # its request-body reader (an object of a class python-engineio defines per request) is ~2.4 KiB of
        # that, and nothing reads it after the handshake (tracemalloc, 1,000 devices).
        environ.pop("wsgi.input", None)
        await self.emit("connected", {"sid": sid, "message": "连接成功", "server_time": self._now()}, to=sid)

    async def on_disconnect(self, sid: str, _reason: Any = None) -> None:
        device_id = await self._device_of(sid)
        if device_id is not None:
            await self.service.disconnected(device_id, sid)

    async def on_device_register(self, sid: str, data: Any = None) -> None:
        device_id = data.get("device_id") if isinstance(data, dict) else None
        if isinstance(device_id, int) and not isinstance(device_id, bool):
            device_id = str(device_id)
        if not isinstance(device_id, str) or not device_id.strip():
            await self.emit(
                "register_error", {"message": "设备ID不能为空", "error_code": "MISSING_DEVICE_ID"}, to=sid
            )
            return
        if len(device_id) > MAX_DEVICE_ID or "\x00" in device_id:
            message = f"设备ID无效（最多 {MAX_DEVICE_ID} 个字符，不含 NUL）"
            await self.emit("register_error", {"message": message, "error_code": "INVALID_DEVICE_ID"}, to=sid)
            return
        assert isinstance(data, dict)
        problem = json_problem(data.get("device_info"), max_depth=8)
        if problem is not None:
            message = "device_info 无法保存: " + problem
            await self.emit(
                "register_error", {"message": message, "error_code": "INVALID_DEVICE_INFO"}, to=sid
            )
            return
        previous = await self._device_of(sid)
        if previous is not None and previous != device_id:
            await self.leave_room(sid, previous)
            await self.service.disconnected(previous, sid)
        await self.save_session(sid, {"device_id": device_id})
        await self.enter_room(sid, device_id)
        replaced = await self.service.register(sid, {**data, "device_id": device_id})
        if replaced is not None:
            await self.disconnect(replaced)  # a no-op when the old connection is on another replica
        reply = {"device_id": device_id, "message": "注册成功", "server_time": self._now()}
        await self.emit("register_success", reply, to=sid)
        for payload in await self.service.held_tasks(device_id):
            await self.emit("new_task", payload, to=sid)
        self.service.wake()

    async def on_heartbeat(self, sid: str, _data: Any = None) -> None:
        device_id = await self._registered(sid)
        if device_id is None:
            return
        if not await self.service.heartbeat(device_id, sid):
            await self._error(sid, STALE_CONNECTION)
            return
        await self.emit("heartbeat_ack", {"server_time": self._now()}, to=sid)

    async def on_task_progress(self, sid: str, data: Any = None) -> None:
        device_id = await self._registered(sid)
        task_id = await self._task_id(sid, data)
        if device_id is None or task_id is None:
            return
        assert isinstance(data, dict)
        percent = data.get("progress")
        if isinstance(percent, bool) or not isinstance(percent, int | float) or not math.isfinite(percent):
            await self._error(sid, _invalid("progress 必须是 0-100 的数字"), task_id)
            return
        percent = max(0, min(100, int(percent)))  # clamped before storing: 2**70 is a valid "100"
        message = data.get("message") if isinstance(data.get("message"), str) else None
        await self._task_call(sid, task_id, self.service.progress(device_id, task_id, percent, message))

    async def on_task_result(self, sid: str, data: Any = None) -> None:
        device_id = await self._registered(sid)
        task_id = await self._task_id(sid, data)
        if device_id is None or task_id is None:
            return
        assert isinstance(data, dict)
        result = data.get("result", {})
        if not isinstance(result, dict):
            await self._error(sid, _invalid("result 必须是 JSON 对象"), task_id)
            return
        problem = json_problem(result)
        if problem is not None:
            await self._error(sid, _invalid("result 无法保存: " + problem), task_id)
            return
        if await self._task_call(sid, task_id, self.service.result(device_id, task_id, result)):
            await self.emit("task_result_ack", {"task_id": task_id, "status": "received"}, to=sid)

    # -- helpers ------------------------------------------------------------------------------------

    async def _task_call(self, sid: str, task_id: str, call: Any) -> bool:
        """Runs a service call about a task; a known error goes back to the device with the task's id."""
        try:
            await call
        except Exception as exc:
            if SOCKET_ERRORS.lookup(type(exc)) is None:
                raise
            await self._error(sid, SOCKET_ERRORS.wire(exc), task_id)
            return False
        return True

    async def _task_id(self, sid: str, data: Any) -> str | None:
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id or len(task_id) > 128:
            await self._error(sid, _invalid("缺少必要参数: task_id"))
            return None
        return task_id

    async def _device_of(self, sid: str) -> str | None:
        try:
            session = await self.get_session(sid)
        except KeyError:
            return None
        device_id = session.get("device_id")
        return device_id if isinstance(device_id, str) else None

    async def _registered(self, sid: str) -> str | None:
        device_id = await self._device_of(sid)
        if device_id is None:
            await self._error(sid, NOT_REGISTERED)
        return device_id

    async def _error(self, sid: str | None, wire: WireError, task_id: str | None = None) -> None:
        if sid is not None:
            await self.emit("error", socket_error(wire, task_id), to=sid)

    def _now(self) -> str | None:
        return iso(self.service.now())


def _given_key(environ: dict[str, Any], auth: Any) -> str:
    """The device key a connection gives: Socket.IO auth `{"device_key": ...}`, else `?device_key=`."""
    if isinstance(auth, dict) and isinstance(auth.get("device_key"), str):
        return str(auth["device_key"])
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    return query.get("device_key", [""])[0]


def _invalid(message: str) -> WireError:
    return WireError(400, "INVALID_PAYLOAD", message)
