"""Jobs, events and nodes as the console's JSON shows them."""

from __future__ import annotations

from typing import Any

from agenthub.core.jobs import Job, JobEvent
from agenthub.core.nodes import AgentNode
from agenthub.server.console_hooks import LogLine, NodeLoad


def job_row(job: Job, protocol: str) -> dict[str, Any]:
    return {
        "id": job.id,
        "protocol": protocol,
        "kind": job.kind,
        "type": job.type,
        "status": job.status.value,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "holder": job.leased_by if job.status.is_held else None,  # the engine keeps the last holder
        "last_holder": job.leased_by,
        "target_node": job.target_node,
        "external_id": job.external_id,
        "progress": job.progress,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def job_detail(job: Job, protocol: str) -> dict[str, Any]:
    return {
        **job_row(job, protocol),
        "payload": job.payload,
        "result": job.result,
        "priority": job.priority,
        "owner_id": job.owner_id,
        "subject_id": job.subject_id,
        "scheduled_at": job.scheduled_at,
        "lease_until": job.lease_until,
        "lease_epoch": job.lease_epoch,
        "deadline": job.deadline,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error_code": job.error_code,
        "message": job.message,
    }


def event_row(event: JobEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "at": event.created_at,
        "node_id": event.node_id,
        "message": event.message,
        "error_code": event.error_code,
        "data": event.data,
    }


def log_row(line: LogLine) -> dict[str, Any]:
    return {"at": line.at, "level": line.level, "message": line.message, "data": line.data}


def node_row(node: AgentNode, protocol: str, *, online: bool, load: NodeLoad | None) -> dict[str, Any]:
    return {
        "protocol": protocol,
        "kind": node.kind,
        "node_id": node.node_id,
        "owner_id": node.owner_id,
        "version": node.version,
        "online": online,
        "state": "disabled" if node.disabled else ("online" if online else "offline"),
        "last_seen_at": node.last_seen_at,
        "created_at": node.created_at,
        "disabled": node.disabled,
        "disabled_at": node.disabled_at,
        "disabled_by": node.disabled_by,
        "load": load.text if load is not None else None,
        "load_data": load.data if load is not None else None,
    }
