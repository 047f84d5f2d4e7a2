"""The agent's scan endpoints, seed 000 sections 4.11-4.17. Answers are wrapped in `{"data": ...}`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter

from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.scan.context import Scans
from agenthub.protocols.oas.scan.schemas import (
    ScanCompleteIn,
    ScanFailIn,
    ScanLeaseIn,
    ScanPhaseIn,
    ScanPollIn,
)
from agenthub.protocols.oas.security import AgentCall, AgentLease, AgentOfNode, agent_call, agent_lease
from agenthub.protocols.oas.wire import fmt_time

OK = {"data": {"message": "ok"}}

router = APIRouter(prefix="/api/v1/agent/scan")

PollCall = Annotated[AgentCall[ScanPollIn], agent_call(ScanPollIn)]
ScanLease = Annotated[AgentLease[ScanLeaseIn], agent_lease(ScanLeaseIn, path_param="scan_id")]
PhaseLease = Annotated[AgentLease[ScanPhaseIn], agent_lease(ScanPhaseIn, path_param="scan_id")]
CompleteLease = Annotated[AgentLease[ScanCompleteIn], agent_lease(ScanCompleteIn, path_param="scan_id")]
FailLease = Annotated[AgentLease[ScanFailIn], agent_lease(ScanFailIn, path_param="scan_id")]


@router.post("/poll")
async def poll(call: PollCall, oas: Oas, scans: Scans) -> dict[str, Any]:
    await oas.presence(call.agent)
    body = call.body
    jobs = await scans.poll(
        manager_id=call.manager_id,
        node_id=call.node_id,
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


@router.post("/{scan_id}/start")
async def start(lease: ScanLease, scans: Scans) -> dict[str, Any]:
    await scans.start(
        manager_id=lease.manager_id,
        job_id=lease.job_id,
        node_id=lease.node_id,
        lease_seconds=lease.body.lease_seconds,
    )
    return OK


@router.post("/{scan_id}/phase")
async def phase(lease: PhaseLease, scans: Scans) -> dict[str, Any]:
    body = lease.body
    await scans.phase(
        manager_id=lease.manager_id,
        job_id=lease.job_id,
        node_id=lease.node_id,
        phase=body.phase,
        screenshot=body.screenshot,
        screenshot_key=body.screenshot_key,
        lease_seconds=body.lease_seconds,
    )
    return OK


@router.get("/{scan_id}/choice")
async def choice(scan_id: int, agent: AgentOfNode, scans: Scans) -> dict[str, Any]:
    return {"data": await scans.choice(manager_id=agent.manager_id, job_id=scan_id, node_id=agent.node_id)}


@router.post("/{scan_id}/heartbeat")
async def heartbeat(lease: ScanLease, scans: Scans) -> dict[str, Any]:
    await scans.heartbeat(
        manager_id=lease.manager_id,
        job_id=lease.job_id,
        node_id=lease.node_id,
        lease_seconds=lease.body.lease_seconds,
    )
    return OK


@router.post("/{scan_id}/complete")
async def complete(lease: CompleteLease, scans: Scans) -> dict[str, Any]:
    await scans.complete(
        manager_id=lease.manager_id, job_id=lease.job_id, node_id=lease.node_id, message=lease.body.message
    )
    return OK


@router.post("/{scan_id}/fail")
async def fail(lease: FailLease, scans: Scans) -> dict[str, Any]:
    await scans.fail(
        manager_id=lease.manager_id,
        job_id=lease.job_id,
        node_id=lease.node_id,
        message=lease.body.message,
        error_code=lease.body.error_code,
    )
    return OK
