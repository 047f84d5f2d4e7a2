"""Paged operator lists: the query parameters they take and the page they answer with."""

from __future__ import annotations

from typing import Any

from fastapi import Query

Page = Query(default=1, ge=1)
PageSize = Query(default=20, ge=1, le=500)  # the original frontend offers up to 500 a page


def page_of(items: list[Any], *, total: int, page: int, page_size: int, **extra: Any) -> dict[str, Any]:
    """`{"data": {items, total, <extra, e.g. summary>, page, page_size}}`."""
    return {"data": {"items": items, "total": total, **extra, "page": page, "page_size": page_size}}
