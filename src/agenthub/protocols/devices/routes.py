"""The seed's HTTP API, plus the cancel endpoint the seed lacks."""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request

from agenthub.core.jobs import JobQuery, JobStatus
from agenthub.protocols.devices.errors import BadRequest, WrongDeviceKey
from agenthub.protocols.devices.service import DevicesService, iso, task_view
from agenthub.protocols.devices.tasks import ENGINE_STATUSES, TASK_KIND


async def service_of(request: Request) -> DevicesService:
    service: DevicesService = request.app.state.devices
    return service


Service = Annotated[DevicesService, Depends(service_of)]
MAX_OFFSET = 2**31 - 1  # far beyond any real list; beyond 64 bits the database itself would refuse


async def device_key(
    service: Service, x_device_key: Annotated[str | None, Header(include_in_schema=False)] = None
) -> None:
    """With `AGENTHUB_DEVICES_DEVICE_KEY` set, every HTTP call must carry it in `X-Device-Key`."""
    expected = service.settings.device_key
    if expected and not hmac.compare_digest((x_device_key or "").encode(), expected.encode()):
        raise WrongDeviceKey()


async def json_object(request: Request) -> dict[str, Any]:
    """The request body, which must be a JSON object (read by hand: the seed's errors, not FastAPI's)."""
    return json_object_of(await request.body())


def json_object_of(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise BadRequest("请求体不是合法的 JSON", "INVALID_JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("请求体必须是 JSON 对象")
    return body


JsonBody = Annotated[dict[str, Any], Depends(json_object)]


def _optional_device_id(body: dict[str, Any]) -> str | None:
    device_id = body.get("device_id")
    if device_id is None or device_id == "":
        return None
    if not isinstance(device_id, str) or len(device_id) > 128 or "\x00" in device_id:
        raise BadRequest("device_id 必须是不含 NUL 的字符串（最多 128 个字符）")
    return device_id


def _optional_timeout(body: dict[str, Any]) -> int | None:
    timeout = body.get("timeout")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 86_400:
        raise BadRequest("timeout 必须是 1-86400 之间的整数（秒）")
    return timeout


router = APIRouter(dependencies=[Depends(device_key)])

# The body is read by hand (above); this schema documents it, for readers and for the fuzz test.
DISPATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["task_type"],
                    "properties": {
                        "task_type": {"type": "string", "enum": ["DELIST", "COLLECT", "UPLOAD"]},
                        "data": {"type": "object"},
                        "device_id": {"type": "string"},
                        "timeout": {"type": "integer", "minimum": 1, "maximum": 86400},
                    },
                }
            }
        },
    }
}


@router.get("/")
async def system_status(service: Service) -> dict[str, Any]:
    return {
        "system": "分布式任务系统",
        "version": "1.0.0",
        "status": "running",
        "port": service.settings.port,
        "connected_devices": len(await service.online_devices()),
        "active_tasks": await service.active_tasks(),
        "timestamp": iso(service.now()),
    }


@router.get("/api/devices")
async def list_devices(service: Service) -> dict[str, Any]:
    views = await service.device_views()
    return {"success": True, "devices": views, "total": len(views)}


@router.get("/api/tasks")
async def list_tasks(
    service: Service,
    status: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    statuses: tuple[JobStatus, ...] | None = None
    if status is not None:
        if status not in ENGINE_STATUSES:
            raise BadRequest(f"未知的任务状态: {status}")
        statuses = ENGINE_STATUSES[status]
    jobs, total = await service.engine.find(
        JobQuery(kind=TASK_KIND, statuses=statuses), limit=limit, offset=offset
    )
    return {"success": True, "tasks": [task_view(job) for job in jobs], "total": total}


DISPATCH_PATH = "/api/dispatch-task"


@router.post(DISPATCH_PATH, openapi_extra=DISPATCH_BODY)
async def dispatch_task(body: JsonBody, service: Service) -> dict[str, Any]:
    if body.get("task_type") in (None, ""):
        raise BadRequest("缺少必要参数: task_type", "MISSING_PARAMETER")
    outcome = await service.dispatch(
        body["task_type"], body.get("data"), _optional_device_id(body), _optional_timeout(body)
    )
    job, device = outcome.job, outcome.device
    return {
        "success": True,
        "task_id": job.external_id,
        "device_id": device.device_id if device else None,
        "device_name": device.device_name if device else None,
        "status": task_view(job)["status"],
        "message": "任务分发成功" if device else "设备任务已满，任务已排队，将在设备空闲时分发",
    }


@router.get("/api/task/{task_id}/status")
async def task_status(task_id: str, service: Service) -> dict[str, Any]:
    return {"success": True, "task": task_view(await service.task(task_id))}


@router.post("/api/task/{task_id}/cancel")
async def cancel_task(task_id: str, service: Service) -> dict[str, Any]:
    job = await service.cancel(task_id)
    return {"success": True, "task_id": job.external_id, "status": "cancelled", "message": "任务已取消"}
