"""ComfyUI records as the JSON the wire carries (camelCase where the seed uses it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agenthub.core.jobs import Job
from agenthub.protocols.comfyui.records import Agent, Alert, Manifest, TaskEvent


def fmt_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def event_out(event: TaskEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "taskId": event.task_id,
        "level": event.level,
        "message": event.message,
        "payload": event.payload or {},
        "created_at": fmt_time(event.created_at),
    }


def manifest_out(manifest: Manifest) -> dict[str, Any]:
    return {
        "id": manifest.id,
        "role": manifest.role,
        "version": manifest.version,
        "content": manifest.content,
    }


def manifest_admin_out(manifest: Manifest) -> dict[str, Any]:
    return {**manifest_out(manifest), "name": manifest.name, "created_at": fmt_time(manifest.created_at)}


def task_out(job: Job, status: str) -> dict[str, Any]:
    return {
        "id": job.external_id,
        "agentId": job.target_node,
        "manifestId": job.payload.get("manifest_id"),
        "status": status,
        "progress": job.progress,
        "message": job.message,
        "error_code": job.error_code,
        "result": job.result,
        "pushes": job.lease_epoch,
        "created_at": fmt_time(job.created_at),
        "started_at": fmt_time(job.started_at),
        "finished_at": fmt_time(job.finished_at),
        "expiresAt": fmt_time(job.deadline),
    }


def alert_out(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "agentId": alert.agent_id,
        "type": alert.type,
        "message": alert.message,
        "payload": alert.payload or {},
        "created_at": fmt_time(alert.created_at),
    }


def agent_out(agent: Agent, *, online: bool, alerts: list[Alert] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "agentId": agent.agent_id,
        "base_url": agent.base_url,
        "allowed": agent.allowed,
        "online": online,
        "status": agent.status,
        "agent_version": agent.agent_version,
        "comfyui_version": agent.comfyui_version,
        "metrics": agent.metrics,
        "last_heartbeat_at": fmt_time(agent.last_heartbeat_at),
        "created_at": fmt_time(agent.created_at),
    }
    if alerts is not None:
        out["alerts"] = [alert_out(a) for a in alerts]
    return out
