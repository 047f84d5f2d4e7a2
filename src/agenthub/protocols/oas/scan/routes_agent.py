"""The agent's scan endpoints, seed 000 sections 4.11-4.17. Answers are wrapped in `{"data": ...}`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query

from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.scan.context import Scans
from agenthub.protocols.oas.scan.schemas import (
    ScanCompleteIn,
    ScanFailIn,
    ScanLeaseIn,
    ScanPhaseIn,
    ScanPollIn,
)
from agenthub.protocols.oas.security import CurrentAgent, Principal, same_node
from agenthub.protocols.oas.wire import fmt_time

OK = {"data": {"message": "ok"}}
MANAGER_INACTIVE = "管理员账号未激活或已过期"


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/agent/scan")

    @api.post("/poll")
    async def poll(body: ScanPollIn, agent: CurrentAgent, oas: Oas, scans: Scans) -> dict[str, Any]:
        same_node(agent, body.node_id)
        manager = await oas.repo.manager(manager_id=_manager_id(agent))
        if manager is None or not manager.is_active(oas.now()):
            raise OasError(403, MANAGER_INACTIVE)
        await oas.presence(agent)
        jobs = await scans.poll(
            manager_id=manager.id,
            node_id=body.node_id,
            limit=min(body.limit, scans.settings.max_poll_limit),
            lease_seconds=body.lease_seconds,
        )
        lease_until = jobs[0].lease_until if jobs else oas.now() + timedelta(seconds=body.lease_seconds)
        wire = [
            {
                "scan_job_id": job.id,
                "user_id": job.subject_id,
                "login_id": str(job.payload.get("login_id", "")),
                "lease_until": fmt_time(job.lease_until),
            }
            for job in jobs
        ]
        return {"data": {"jobs": wire, "lease_until": fmt_time(lease_until)}}

    @api.post("/{scan_id}/start")
    async def start(scan_id: int, body: ScanLeaseIn, agent: CurrentAgent, scans: Scans) -> dict[str, Any]:
        same_node(agent, body.node_id)
        await scans.start(
            manager_id=_manager_id(agent),
            job_id=scan_id,
            node_id=body.node_id,
            lease_seconds=body.lease_seconds,
        )
        return OK

    @api.post("/{scan_id}/phase")
    async def phase(scan_id: int, body: ScanPhaseIn, agent: CurrentAgent, scans: Scans) -> dict[str, Any]:
        same_node(agent, body.node_id)
        await scans.phase(
            manager_id=_manager_id(agent),
            job_id=scan_id,
            node_id=body.node_id,
            phase=body.phase,
            screenshot=body.screenshot,
            screenshot_key=body.screenshot_key,
            lease_seconds=body.lease_seconds,
        )
        return OK

    @api.get("/{scan_id}/choice")
    async def choice(
        scan_id: int, agent: CurrentAgent, scans: Scans, node_id: str = Query(min_length=3, max_length=128)
    ) -> dict[str, Any]:
        same_node(agent, node_id)
        return {"data": await scans.choice(manager_id=_manager_id(agent), job_id=scan_id, node_id=node_id)}

    @api.post("/{scan_id}/heartbeat")
    async def heartbeat(scan_id: int, body: ScanLeaseIn, agent: CurrentAgent, scans: Scans) -> dict[str, Any]:
        same_node(agent, body.node_id)
        await scans.heartbeat(
            manager_id=_manager_id(agent),
            job_id=scan_id,
            node_id=body.node_id,
            lease_seconds=body.lease_seconds,
        )
        return OK

    @api.post("/{scan_id}/complete")
    async def complete(
        scan_id: int, body: ScanCompleteIn, agent: CurrentAgent, scans: Scans
    ) -> dict[str, Any]:
        same_node(agent, body.node_id)
        await scans.complete(
            manager_id=_manager_id(agent), job_id=scan_id, node_id=body.node_id, message=body.message
        )
        return OK

    @api.post("/{scan_id}/fail")
    async def fail(scan_id: int, body: ScanFailIn, agent: CurrentAgent, scans: Scans) -> dict[str, Any]:
        same_node(agent, body.node_id)
        await scans.fail(
            manager_id=_manager_id(agent),
            job_id=scan_id,
            node_id=body.node_id,
            message=body.message,
            error_code=body.error_code,
        )
        return OK

    return api


def _manager_id(agent: Principal) -> int:
    assert agent.manager_id is not None
    return agent.manager_id
