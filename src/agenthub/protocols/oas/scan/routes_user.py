"""The user's side of a scan: create, status, choice, cancel, heartbeat; and the page at /scan."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from agenthub.protocols.oas.scan.context import Scans
from agenthub.protocols.oas.scan.schemas import ScanChoiceIn, ScanCreateIn, ScanJobIn
from agenthub.protocols.oas.scan.service import CooldownActive
from agenthub.protocols.oas.security import CurrentUser
from agenthub.protocols.oas.wire import fmt_time

OK = {"data": {"message": "ok"}}


router = APIRouter()


@router.post("/api/v1/user/scan/create", status_code=201)
async def create(body: ScanCreateIn, user: CurrentUser, scans: Scans) -> JSONResponse:
    try:
        created = await scans.create(user_id=user.subject_id, login_id=body.login_id)
    except CooldownActive as exc:
        return JSONResponse(
            {
                "detail": f"扫码过于频繁，请 {exc.remaining} 秒后再试",
                "cooldown_remaining_sec": exc.remaining,
            },
            status_code=429,
            headers={"Retry-After": str(exc.remaining)},
        )
    data = {"scan_job_id": created.job.id, "position_in_queue": created.position}
    return JSONResponse({"data": data}, status_code=201)


@router.get("/api/v1/user/scan/status")
async def status(user: CurrentUser, scans: Scans) -> dict[str, Any]:
    data = await scans.status(user_id=user.subject_id)
    if "created_at" in data:
        data["created_at"] = fmt_time(data["created_at"])
    return {"data": data}


@router.post("/api/v1/user/scan/choice")
async def choice(body: ScanChoiceIn, user: CurrentUser, scans: Scans) -> dict[str, Any]:
    await scans.choose(
        user_id=user.subject_id, job_id=body.scan_job_id, choice_type=body.choice_type, value=body.value
    )
    return OK


@router.post("/api/v1/user/scan/cancel")
async def cancel(body: ScanJobIn, user: CurrentUser, scans: Scans) -> dict[str, Any]:
    await scans.cancel(user_id=user.subject_id, job_id=body.scan_job_id)
    return OK


@router.post("/api/v1/user/scan/heartbeat")
async def heartbeat(body: ScanJobIn, user: CurrentUser, scans: Scans) -> dict[str, Any]:
    await scans.user_heartbeat(user_id=user.subject_id, job_id=body.scan_job_id)
    return OK


@router.get("/scan", include_in_schema=False)
async def page() -> HTMLResponse:
    return HTMLResponse(scan_page(), headers={"Cache-Control": "no-cache"})


def scan_page() -> str:
    page = resources.files("agenthub").joinpath("web", "oas_scan", "index.html")
    return page.read_text(encoding="utf-8")
