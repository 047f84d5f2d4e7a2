"""The Socket.IO side: one namespace ("/"), one room per device_id, the seed's events and payloads."""

from __future__ import annotations

import logging
from typing import Any

import socketio

from agenthub.core.errors import EngineError, InvalidTransition, LeaseMismatch
from agenthub.protocols.devices.errors import DevicesError
from agenthub.protocols.devices.service import DevicesService, iso

log = logging.getLogger(__name__)

MAX_DEVICE_ID = 128
KNOWN_EVENTS = frozenset(
    {"connect", "disconnect", "device_register", "heartbeat", "task_result", "task_progress"}
)


class DevicesNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(self, service: DevicesService) -> None:
        super().__init__("/")
        self.service = service

    async def trigger_event(self, event: str, *args: Any) -> Any:
        sid = args[0] if args else None
        if event not in KNOWN_EVENTS:
            await self._error(sid, f"未知事件: {event}", "UNKNOWN_EVENT")
            return None
        try:
            return await super().trigger_event(event, *args)
        except Exception:
            log.exception("devices: %s from %s failed", event, sid)
            await self._error(sid, "服务器内部错误", "INTERNAL_ERROR")
            return None

    async def on_connect(self, sid: str, _environ: dict[str, Any], _auth: Any = None) -> None:
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
        if len(device_id) > MAX_DEVICE_ID:
            message = f"设备ID过长（最多 {MAX_DEVICE_ID} 个字符）"
            await self.emit("register_error", {"message": message, "error_code": "INVALID_DEVICE_ID"}, to=sid)
            return
        assert isinstance(data, dict)
        previous = await self._device_of(sid)
        if previous is not None and previous != device_id:
            await self.leave_room(sid, previous)
            await self.service.disconnected(previous, sid)
        await self.save_session(sid, {"device_id": device_id})
        await self.enter_room(sid, device_id)
        await self.service.register(sid, {**data, "device_id": device_id})
        reply = {"device_id": device_id, "message": "注册成功", "server_time": self._now()}
        await self.emit("register_success", reply, to=sid)
        await self.service.resend_held(device_id, sid)
        self.service.wake()

    async def on_heartbeat(self, sid: str, _data: Any = None) -> None:
        device_id = await self._registered(sid)
        if device_id is None:
            return
        if not await self.service.heartbeat(device_id, sid):
            await self._error(sid, "设备连接已失效，请重新注册", "NOT_REGISTERED")
            return
        await self.emit("heartbeat_ack", {"server_time": self._now()}, to=sid)

    async def on_task_progress(self, sid: str, data: Any = None) -> None:
        device_id = await self._registered(sid)
        task_id = await self._task_id(sid, data)
        if device_id is None or task_id is None:
            return
        assert isinstance(data, dict)
        percent = data.get("progress")
        if isinstance(percent, bool) or not isinstance(percent, int | float):
            await self._error(sid, "progress 必须是 0-100 的数字", "INVALID_PAYLOAD", task_id)
            return
        message = data.get("message") if isinstance(data.get("message"), str) else None
        await self._task_call(sid, task_id, self.service.progress(device_id, task_id, int(percent), message))

    async def on_task_result(self, sid: str, data: Any = None) -> None:
        device_id = await self._registered(sid)
        task_id = await self._task_id(sid, data)
        if device_id is None or task_id is None:
            return
        assert isinstance(data, dict)
        result = data.get("result", {})
        if not isinstance(result, dict):
            await self._error(sid, "result 必须是 JSON 对象", "INVALID_PAYLOAD", task_id)
            return
        if await self._task_call(sid, task_id, self.service.result(device_id, task_id, result)):
            await self.emit("task_result_ack", {"task_id": task_id, "status": "received"}, to=sid)

    # -- helpers ------------------------------------------------------------------------------------

    async def _task_call(self, sid: str, task_id: str, call: Any) -> bool:
        try:
            await call
        except DevicesError as exc:
            await self._error(sid, exc.message, exc.error_code, task_id)
            return False
        except (LeaseMismatch, InvalidTransition):
            await self._error(sid, "设备未持有该任务，已拒绝", "TASK_NOT_HELD", task_id)
            return False
        except EngineError:
            await self._error(sid, "服务暂不可用", "SERVICE_UNAVAILABLE", task_id)
            return False
        return True

    async def _task_id(self, sid: str, data: Any) -> str | None:
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id or len(task_id) > 128:
            await self._error(sid, "缺少必要参数: task_id", "INVALID_PAYLOAD")
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
            await self._error(sid, "设备未注册", "NOT_REGISTERED")
        return device_id

    async def _error(self, sid: str | None, message: str, code: str, task_id: str | None = None) -> None:
        if sid is None:
            return
        body: dict[str, Any] = {"message": message, "error_code": code}
        if task_id is not None:
            body["task_id"] = task_id
        await self.emit("error", body, to=sid)

    def _now(self) -> str | None:
        return iso(self.service.now())
