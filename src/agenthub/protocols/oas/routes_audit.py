"""The super admin's audit log: every operator action, newest first (recorded by `audit.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.paging import Page, PageSize, page_of
from agenthub.protocols.oas.security import CurrentSuper

router = APIRouter(prefix="/api/v1/super")


@router.get("/audit-logs")
async def audit_logs(
    _admin: CurrentSuper,
    oas: Oas,
    page: int = Page,
    page_size: int = PageSize,
    actor_type: str | None = None,
    action: str | None = None,
    keyword: str | None = None,
) -> dict[str, Any]:
    items, total = await oas.audit.logs(
        limit=page_size, offset=(page - 1) * page_size, actor_type=actor_type, action=action, keyword=keyword
    )
    return page_of(items, total=total, page=page, page_size=page_size)
