"""The seed's HTTP API, plus the cancel endpoint the seed lacks."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from agenthub.core.jobs import JobQuery, JobStatus
from agenthub.protocols.devices.errors import DevicesError
from agenthub.protocols.devices.service import DevicesService, iso, task_view
from agenthub.protocols.devices.tasks import ENGINE_STATUSES, TASK_KIND, TaskDataError


def service_of(request: Request) -> DevicesService:
    service: DevicesService = request.app.state.devices
    return service


Service = Annotated[DevicesService, Depends(service_of)]


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DevicesError(400, "请求体不是合法的 JSON", "INVALID_JSON") from exc
    if not isinstance(body, dict):
        raise DevicesError(400, "请求体必须是 JSON 对象", "INVALID_PARAMS")
    return body


def _optional_device_id(body: dict[str, Any]) -> str | None:
    device_id = body.get("device_id")
    if device_id is None or device_id == "":
        return None
    if not isinstance(device_id, str) or len(device_id) > 128:
        raise DevicesError(400, "device_id 必须是字符串", "INVALID_PARAMS")
    return device_id


def _optional_timeout(body: dict[str, Any]) -> int | None:
    timeout = body.get("timeout")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 86_400:
        raise DevicesError(400, "timeout 必须是 1-86400 之间的整数（秒）", "INVALID_PARAMS")
    return timeout


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/")
    async def system_status(service: Service) -> dict[str, Any]:
        online = await service.repo.online(service.cutoff())
        return {
            "system": "分布式任务系统",
            "version": "1.0.0",
            "status": "running",
            "port": service.settings.port,
            "connected_devices": len(online),
            "active_tasks": await service.repo.count_active(),
            "timestamp": iso(service.now()),
        }

    @api.get("/api/devices")
    async def list_devices(service: Service) -> dict[str, Any]:
        views = await service.device_views()
        return {"success": True, "devices": views, "total": len(views)}

    @api.get("/api/tasks")
    async def list_tasks(
        service: Service,
        status: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        statuses: tuple[JobStatus, ...] | None = None
        if status is not None:
            if status not in ENGINE_STATUSES:
                raise DevicesError(400, f"未知的任务状态: {status}", "INVALID_PARAMS")
            statuses = ENGINE_STATUSES[status]
        jobs, total = await service.runtime.engine.find(
            JobQuery(kind=TASK_KIND, statuses=statuses), limit=limit, offset=offset
        )
        return {"success": True, "tasks": [task_view(job) for job in jobs], "total": total}

    @api.post("/api/dispatch-task")
    async def dispatch_task(request: Request, service: Service) -> dict[str, Any]:
        body = await _json_object(request)
        if body.get("task_type") in (None, ""):
            raise DevicesError(400, "缺少必要参数: task_type", "MISSING_PARAMETER")
        try:
            outcome = await service.dispatch(
                body["task_type"], body.get("data"), _optional_device_id(body), _optional_timeout(body)
            )
        except TaskDataError as exc:
            raise DevicesError(400, exc.message, exc.error_code) from exc
        job, device = outcome.job, outcome.device
        return {
            "success": True,
            "task_id": job.external_id,
            "device_id": device.device_id if device else None,
            "device_name": device.device_name if device else None,
            "status": task_view(job)["status"],
            "message": "任务分发成功" if device else "设备任务已满，任务已排队，将在设备空闲时分发",
        }

    @api.get("/api/task/{task_id}/status")
    async def task_status(task_id: str, service: Service) -> dict[str, Any]:
        return {"success": True, "task": task_view(await service.task(task_id))}

    @api.post("/api/task/{task_id}/cancel")
    async def cancel_task(task_id: str, service: Service) -> dict[str, Any]:
        job = await service.cancel(task_id)
        return {"success": True, "task_id": job.external_id, "status": "cancelled", "message": "任务已取消"}

    return api
