"""What the original frontend reads that our other routes do not give: the manager's own card (me, alias)
and the task pool (the manager's jobs still to run, with the user each is for)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agenthub.core.jobs import JobQuery, JobStatus
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.paging import Page, PageSize, page_of
from agenthub.protocols.oas.schemas_operator import AliasIn
from agenthub.protocols.oas.security import CurrentManager, ManagerAnyStanding
from agenthub.protocols.oas.service import TASK_KIND
from agenthub.protocols.oas.wire import fmt_time

POOL_STATUSES = (JobStatus.PENDING, JobStatus.LEASED, JobStatus.RUNNING)

router = APIRouter(prefix="/api/v1/manager")


def _me(oas: Oas, manager: Any) -> dict[str, Any]:
    now = oas.now()
    return {**manager.to_wire(now), "expired": not manager.is_active(now)}


@router.get("/auth/me")
async def me(principal: ManagerAnyStanding, oas: Oas) -> dict[str, Any]:
    manager = await oas.managers.manager(manager_id=principal.subject_id)
    if manager is None:
        raise OasError(404, "管理员不存在")
    return {"data": _me(oas, manager)}


@router.put("/me/alias")
async def put_alias(body: AliasIn, principal: ManagerAnyStanding, oas: Oas) -> dict[str, Any]:
    updated = await oas.managers.update_manager(
        manager_id=principal.subject_id, now=oas.now(), alias=body.alias.strip()
    )
    if updated is None:
        raise OasError(404, "管理员不存在")
    return {"data": _me(oas, updated)}


@router.get("/task-pool")
async def task_pool(
    manager: CurrentManager,
    oas: Oas,
    page: int = Page,
    page_size: int = PageSize,
    status: str | None = None,
    task_type: str | None = None,
) -> dict[str, Any]:
    statuses: tuple[JobStatus, ...] = POOL_STATUSES
    if status:
        try:
            statuses = (JobStatus(status),)
        except ValueError as exc:
            raise OasError(400, f"无效的任务状态: {status}") from exc
    engine = oas.runtime.engine
    base = JobQuery(kind=TASK_KIND, owner_id=manager.subject_id, statuses=POOL_STATUSES)
    query = JobQuery(
        kind=TASK_KIND,
        owner_id=manager.subject_id,
        statuses=statuses,
        types=(task_type,) if task_type else None,
        order="queue",
    )
    jobs, total = await engine.find(query, limit=page_size, offset=(page - 1) * page_size)
    counts = await engine.count_by(base, "status")
    labels = await oas.stats.user_labels({j.subject_id for j in jobs if j.subject_id is not None})
    items = [
        {
            "id": j.id,
            "user_id": j.subject_id,
            "login_id": labels.get(j.subject_id or 0, {}).get("login_id", ""),
            "account_no": labels.get(j.subject_id or 0, {}).get("account_no", ""),
            "user_type": labels.get(j.subject_id or 0, {}).get("user_type", ""),
            "task_type": j.type,
            "status": j.status.value,
            "priority": j.priority,
            "scheduled_at": fmt_time(j.scheduled_at),
            "leased_by_node": j.leased_by or "",
            "lease_until": fmt_time(j.lease_until),
            "attempts": j.attempts,
            "max_attempts": j.max_attempts,
            "created_at": fmt_time(j.created_at),
        }
        for j in jobs
    ]
    summary = {s.value: counts.get((s.value,), 0) for s in POOL_STATUSES}
    summary["total"] = sum(summary.values())
    return page_of(items, total=total, summary=summary, page=page, page_size=page_size)
