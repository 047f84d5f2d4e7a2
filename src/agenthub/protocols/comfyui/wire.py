"""ComfyUI records as the JSON the wire carries (camelCase where the seed uses it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agenthub.core.jobs import Job, JobEvent, JobStatus
from agenthub.protocols.comfyui.agents import AgentView, Presence
from agenthub.protocols.comfyui.records import Agent, Alert, Manifest, TaskEvent


def fmt_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _entry(
    id: int, owner: tuple[str, str], kind: tuple[str, str], message: str, payload: Any, created_at: datetime
) -> dict[str, Any]:
    """Task events and alerts share one shape: what it is about, what kind, a message, a payload, when."""
    return {
        "id": id,
        owner[0]: owner[1],
        kind[0]: kind[1],
        "message": message,
        "payload": payload or {},
        "created_at": fmt_time(created_at),
    }


def event_out(event: TaskEvent) -> dict[str, Any]:
    return _entry(
        event.id,
        ("taskId", event.task_id),
        ("level", event.level),
        event.message,
        event.payload,
        event.created_at,
    )


def alert_out(alert: Alert) -> dict[str, Any]:
    return _entry(
        alert.id,
        ("agentId", alert.agent_id),
        ("type", alert.type),
        alert.message,
        alert.payload,
        alert.created_at,
    )


def manifest_out(manifest: Manifest) -> dict[str, Any]:
    return {
        "id": manifest.id,
        "role": manifest.role,
        "version": manifest.version,
        "content": manifest.content,
    }


def manifest_admin_out(manifest: Manifest) -> dict[str, Any]:
    return {**manifest_out(manifest), "name": manifest.name, "created_at": fmt_time(manifest.created_at)}


def wire_status(job: Job) -> str:
    """The seed's statuses: a task leased to (pushed to) its agent is still pending until its first event."""
    return "pending" if job.status is JobStatus.LEASED else job.status.value


def task_out(job: Job) -> dict[str, Any]:
    return {
        "id": job.external_id,
        "agentId": job.target_node,
        "manifestId": job.payload.get("manifest_id"),
        "status": wire_status(job),
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


def receipt_out(job: Job) -> dict[str, Any]:
    """The answer to a complete or failed receipt."""
    return {"id": job.external_id, "agentId": job.target_node, "status": wire_status(job)}


def agent_out(agent: Agent, presence: Presence, *, alerts: list[Alert] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "agentId": agent.agent_id,
        "base_url": agent.base_url,
        "allowed": agent.allowed,
        "online": presence.online,
        "status": agent.status,
        "agent_version": agent.agent_version,
        "comfyui_version": agent.comfyui_version,
        "metrics": agent.metrics,
        "last_heartbeat_at": fmt_time(presence.last_seen_at),
        "created_at": fmt_time(agent.created_at),
    }
    if alerts is not None:
        out["alerts"] = [alert_out(a) for a in alerts]
    return out


def agent_view_out(view: AgentView) -> dict[str, Any]:
    return agent_out(view.agent, view.presence, alerts=view.alerts)


def task_view_out(job: Job, events: list[TaskEvent], engine_events: list[JobEvent]) -> dict[str, Any]:
    return {
        **task_out(job),
        "events": [event_out(e) for e in events],
        "engine_events": [
            {"type": e.type, "node_id": e.node_id, "message": e.message, "created_at": fmt_time(e.created_at)}
            for e in engine_events
        ],
    }
