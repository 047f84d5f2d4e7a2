"""Scan jobs on the shared engine: the agent's seven calls, the user's five, and the sweep for users who left.

A scan job is an engine job of kind `oas.scan` (owner = manager, subject = user, deadline = created + 15 min,
exhausted leases end as `expired`); the phase, screenshots and the user's pending choice live in the side
table, written in the job change's own transaction. Live messages go to the user's bus channel after commit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core.errors import InvalidTransition, JobNotFound, LeaseMismatch
from agenthub.core.jobs import (
    ACTIVE_STATUSES,
    Change,
    Job,
    JobFilter,
    JobQuery,
    JobStatus,
    KindPolicy,
    LeaseRef,
    NewJob,
)
from agenthub.protocols.oas.errors import (
    ScanActive,
    ScanEnded,
    ScanNotFound,
    ScanRefused,
    UserExpired,
    UserNotFound,
)
from agenthub.protocols.oas.scan import messages
from agenthub.protocols.oas.scan.records import (
    CHOICE_OF_PHASE,
    SCAN_KIND,
    SCAN_TYPE,
    ScanRow,
    phase_index,
)
from agenthub.protocols.oas.scan.repository import ScanRepository
from agenthub.protocols.oas.scan.settings import ScanSettings
from agenthub.protocols.oas.users_store import UsersStore
from agenthub.server.runtime import Runtime

log = logging.getLogger(__name__)

SCAN_POLICY = KindPolicy(exhausted_status=JobStatus.EXPIRED)
CANCELLED_CODE = "CANCELLED"
USER_CANCELLED = "用户取消"
USER_LEFT = "用户离开扫码页面"
TOTAL_TIMEOUT = "总超时"
LEASE_TIMEOUT = "扫码执行超时"
ACTIVE = tuple(ACTIVE_STATUSES)
GONE_PAGE = 500  # active scans read per page by the sweep


class CooldownActive(Exception):
    def __init__(self, remaining: int) -> None:
        super().__init__(f"cooldown {remaining}s")
        self.remaining = remaining


class _UserCameBack(Exception):
    """Raised inside the sweep's transaction to leave a scan alone whose user was seen meanwhile."""


@dataclass(frozen=True, slots=True)
class Created:
    job: Job
    position: int


def end_message(job: Job, row: ScanRow | None) -> str | None:
    """Why a scan ended, for the user: the stored reason, or what the engine's clocks did."""
    if row is not None and row.error_message:
        return row.error_message
    if job.status is JobStatus.EXPIRED:
        overdue = job.deadline is not None and job.finished_at is not None and job.finished_at >= job.deadline
        return TOTAL_TIMEOUT if overdue else LEASE_TIMEOUT
    if job.status is JobStatus.CANCELLED:
        return job.message or USER_CANCELLED
    return job.message if job.status is JobStatus.FAILED else None


def current_phase(job: Job, row: ScanRow) -> str:
    """The row's phase belongs to one lease; a job waiting for (or just handed to) an agent is `waiting`."""
    if job.status is JobStatus.PENDING or (job.status.is_held and row.lease_epoch != job.lease_epoch):
        return "waiting"
    return row.phase


def scan_guard(manager_id: int) -> Callable[[Job], None]:
    def guard(job: Job) -> None:
        if job.kind != SCAN_KIND or job.owner_id != manager_id:
            raise JobNotFound(job.id)

    return guard


class ScanService:
    def __init__(self, runtime: Runtime, users: UsersStore, settings: ScanSettings) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.users = users
        self.repo = ScanRepository(runtime.db)
        self.settings = settings

    def now(self) -> datetime:
        return self.runtime.clock.now()

    # -- agent (4.11-4.17) ------------------------------------------------------------------------------

    async def poll(self, *, manager_id: int, node_id: str, limit: int, lease_seconds: int) -> list[Job]:
        return await self.engine.lease(
            JobFilter(kind=SCAN_KIND, owner_id=manager_id),
            node_id=node_id,
            limit=limit,
            lease_for=timedelta(seconds=lease_seconds),
        )

    async def start(self, *, manager_id: int, job_id: int, node_id: str, lease_seconds: int) -> None:
        async def begin(conn: AsyncConnection, change: Change) -> None:
            row = await self._row(conn, change.job)
            if row.lease_epoch != change.job.lease_epoch:  # a repeated start keeps the scan where it is
                await self._reset(conn, change.job, phase="launching")

        change = await self.engine.start(
            job_id,
            LeaseRef(node_id),
            lease_for=timedelta(seconds=lease_seconds),
            guard=scan_guard(manager_id),
            hook=begin,
        )
        if change.event is not None and change.event.type == "start":
            await self.push(change.job, messages.for_phase("launching"))

    async def phase(
        self,
        *,
        manager_id: int,
        job_id: int,
        node_id: str,
        phase: str,
        screenshot: str | None,
        screenshot_key: str | None,
        lease_seconds: int,
    ) -> None:
        async def record(conn: AsyncConnection, change: Change) -> None:
            row = await self._row(conn, change.job)
            if row.lease_epoch != change.job.lease_epoch:
                row = await self._reset(conn, change.job, phase="launching")
            if phase_index(phase) < phase_index(row.phase):
                raise ScanRefused(f"阶段不能从 {row.phase} 回到 {phase}")
            screenshots = dict(row.screenshots)
            if screenshot is not None:
                screenshots[screenshot_key or "qrcode"] = screenshot
            await self.repo.update(
                conn,
                row.job_id,
                now=self.now(),
                phase=phase,
                screenshots=screenshots,
                choice_type=None,
                choice_value=None,
            )

        change = await self.engine.heartbeat(
            job_id,
            LeaseRef(node_id),
            lease_for=timedelta(seconds=lease_seconds),
            message=f"phase {phase}",
            guard=scan_guard(manager_id),
            hook=record,
        )
        await self.push(change.job, messages.for_phase(phase, screenshot=screenshot))

    async def choice(self, *, manager_id: int, job_id: int, node_id: str) -> dict[str, Any]:
        job = await self.engine.get(job_id)
        scan_guard(manager_id)(job)
        live = self.engine.holds_live_lease(job, LeaseRef(node_id))
        ended_here = job.status.is_final and job.leased_by == node_id
        if not (live or ended_here):
            raise LeaseMismatch(job_id, node_id)
        row = await self._require_row(job)
        return {
            "has_choice": row.has_choice,
            "choice_type": row.choice_type,
            "value": row.choice_value,
            "cancelled": job.status.is_final and job.status is not JobStatus.SUCCESS,
            "user_online": self._online(row),
        }

    async def heartbeat(self, *, manager_id: int, job_id: int, node_id: str, lease_seconds: int) -> None:
        await self.engine.heartbeat(
            job_id,
            LeaseRef(node_id),
            lease_for=timedelta(seconds=lease_seconds),
            guard=scan_guard(manager_id),
        )

    async def complete(self, *, manager_id: int, job_id: int, node_id: str, message: str | None) -> None:
        async def done(conn: AsyncConnection, change: Change) -> None:
            await self.repo.update(
                conn, change.job.id, now=self.now(), phase="done", choice_type=None, choice_value=None
            )

        job = await self.engine.get(job_id)
        scan_guard(manager_id)(job)
        row = await self._require_row(job)
        change = await self.engine.complete(
            job_id,
            LeaseRef(node_id),
            result={"login_id": row.login_id},
            message=message,
            guard=scan_guard(manager_id),
            hook=done,
        )
        if change.changed:
            await self.push(
                change.job, messages.message(messages.COMPLETED, login_id=row.login_id, message=message)
            )

    async def fail(
        self, *, manager_id: int, job_id: int, node_id: str, message: str | None, error_code: str | None
    ) -> None:
        try:
            if error_code == CANCELLED_CODE:
                change = await self.engine.cancel(
                    job_id,
                    reason=message or USER_CANCELLED,
                    guard=self._held_by(manager_id, node_id),
                    hook=self._ended,
                )
            else:
                change = await self.engine.fail(
                    job_id,
                    LeaseRef(node_id),
                    error_code=error_code,
                    message=message,
                    guard=scan_guard(manager_id),
                    hook=self._failed,
                )
        except InvalidTransition:
            job = await self.engine.get(job_id)
            if job.status.is_final and job.leased_by == node_id:
                return  # the scan already ended (cancelled, expired) while the agent worked on it
            raise
        if change.changed:
            await self.push_end(change.job, message)

    # -- user -------------------------------------------------------------------------------------------

    async def create(self, *, user_id: int, login_id: str | None) -> Created:
        now = self.now()
        user = await self.users.user(user_id=user_id)
        if user is None:
            raise UserNotFound(user_id)
        if user.status != "active" or user.expires_at is None or user.expires_at <= now:
            raise UserExpired(user_id)
        login_id = (login_id or user.login_id or "").strip()
        if not login_id:
            raise ScanRefused("缺少 login_id")
        if await self.active_job(user_id):
            raise ScanActive(user_id)
        remaining = await self.cooldown_remaining(user_id)
        if remaining > 0:
            raise CooldownActive(remaining)

        async def side_row(conn: AsyncConnection, change: Change) -> None:
            await self.repo.insert(
                conn,
                job_id=change.job.id,
                manager_id=user.manager_id,
                user_id=user.id,
                login_id=login_id,
                now=now,
            )

        job = await self.engine.submit(
            NewJob(
                kind=SCAN_KIND,
                type=SCAN_TYPE,
                payload={"user_id": user.id, "login_id": login_id},
                priority=0,
                max_attempts=self.settings.max_attempts,
                owner_id=user.manager_id,
                subject_id=user.id,
                deadline=now + timedelta(seconds=self.settings.total_timeout_seconds),
            ),
            hook=side_row,
        )
        assert job is not None  # no dedupe key
        await self._one_active(job)
        return Created(job, await self.queue_position(manager_id=user.manager_id, job_id=job.id))

    async def status(self, *, user_id: int) -> dict[str, Any]:
        job = await self.active_job(user_id)
        if job is None:
            return {"active": False, "cooldown_remaining_sec": await self.cooldown_remaining(user_id)}
        row = await self._require_row(job)
        position = await self.queue_position(manager_id=row.manager_id, job_id=job.id)
        return {
            "active": True,
            "scan_job_id": job.id,
            "status": job.status.value,
            "phase": current_phase(job, row),
            "login_id": row.login_id,
            "screenshots": row.screenshots if current_phase(job, row) != "waiting" else {},
            "position_in_queue": position if job.status is JobStatus.PENDING else 0,
            "error_message": end_message(job, row),
            "created_at": job.created_at,
        }

    async def choose(self, *, user_id: int, job_id: int, choice_type: str, value: str) -> None:
        job = await self._users_job(user_id, job_id)
        row = await self._require_row(job)
        phase = current_phase(job, row)
        if CHOICE_OF_PHASE.get(phase) != choice_type:
            raise ScanRefused(f"当前阶段 {phase} 不接受 {choice_type} 选择")
        stored = await self.repo.set_choice(
            job_id=job.id, phase=phase, choice_type=choice_type, value=value, now=self.now()
        )
        if not stored:  # the agent moved on between our read and our write
            job = await self._users_job(user_id, job_id)
            phase = current_phase(job, await self._require_row(job))
            raise ScanRefused(f"当前阶段 {phase} 不接受 {choice_type} 选择")

    async def cancel(self, *, user_id: int, job_id: int) -> None:
        job = await self._users_job(user_id, job_id, ended_ok=True)
        try:
            change = await self.engine.cancel(job.id, reason=USER_CANCELLED, hook=self._ended)
        except InvalidTransition as exc:
            raise ScanEnded(job.id) from exc
        if change.changed:
            await self.push_end(change.job, USER_CANCELLED)

    async def user_heartbeat(self, *, user_id: int, job_id: int) -> None:
        job = await self._users_job(user_id, job_id)
        await self.repo.user_seen(job_id=job.id, now=self.now())

    # -- the sweep (users who left) ---------------------------------------------------------------------

    async def cancel_abandoned(self) -> int:
        """Cancels active scans whose user has not been seen for `user_gone_seconds`."""
        cutoff = self.now() - timedelta(seconds=self.settings.user_gone_seconds)

        async def still_gone(conn: AsyncConnection, change: Change) -> None:
            row = await self._row(conn, change.job)
            if row.user_seen_at >= cutoff:
                raise _UserCameBack
            await self.repo.update(conn, row.job_id, now=self.now(), error_message=USER_LEFT)

        cancelled = 0
        for job_id in await self.gone_users(seen_before=cutoff):
            try:
                change = await self.engine.cancel(job_id, reason=USER_LEFT, hook=still_gone)
            except (_UserCameBack, InvalidTransition, JobNotFound):
                continue
            if change.changed:
                cancelled += 1
                await self.push_end(change.job, USER_LEFT)
        return cancelled

    # -- shared -----------------------------------------------------------------------------------------

    async def active_job(self, user_id: int) -> Job | None:
        found, _ = await self.engine.find(
            JobQuery(kind=SCAN_KIND, subject_id=user_id, statuses=ACTIVE), limit=1
        )
        return found[0] if found else None

    async def cooldown_remaining(self, user_id: int) -> int:
        now = self.now()
        recent = await self.repo.created_since(user_id=user_id, since=now - timedelta(hours=24))
        if not recent:
            return 0
        steps = self.settings.cooldowns
        wait = steps[min(len(recent), len(steps) - 1)]
        return max(0, math.ceil((recent[-1] + timedelta(seconds=wait) - now).total_seconds()))

    async def position(self, job: Job) -> int | None:
        if job.status is not JobStatus.PENDING or job.owner_id is None:
            return None
        return await self.queue_position(manager_id=job.owner_id, job_id=job.id)

    async def queue_position(self, *, manager_id: int, job_id: int) -> int:
        """1 for the next scan an agent of this manager will get; counts pending scans queued before it."""
        return await self.engine.count(
            JobQuery(kind=SCAN_KIND, owner_id=manager_id, statuses=(JobStatus.PENDING,), max_id=job_id)
        )

    async def gone_users(self, *, seen_before: datetime, limit: int = 200) -> list[int]:
        """Active scan jobs whose user has not been seen since the given time (oldest first)."""
        gone: list[int] = []
        offset = 0
        while len(gone) < limit:
            page, _ = await self.engine.find(
                JobQuery(kind=SCAN_KIND, statuses=ACTIVE, order="oldest"), limit=GONE_PAGE, offset=offset
            )
            if not page:
                break
            gone += await self.repo.seen_before([job.id for job in page], seen_before=seen_before)
            offset += len(page)
        return sorted(gone)[:limit]

    async def push(self, job: Job, message: dict[str, Any]) -> None:
        if job.subject_id is None:
            return
        try:
            await self.runtime.bus.publish(messages.user_channel(job.subject_id), message)
        except Exception:  # a live push must never undo a committed change
            log.exception("could not push %s of scan %s", message.get("type"), job.id)

    async def push_end(self, job: Job, reason: str | None) -> None:
        """What the user hears when an agent's report or a cancel ends (or requeues) the scan."""
        if job.status is JobStatus.PENDING:
            await self.push(
                job,
                messages.message(
                    messages.PHASE_CHANGE, phase="waiting", message=reason, position=await self.position(job)
                ),
            )
        elif job.status is JobStatus.CANCELLED:
            await self.push(job, messages.message(messages.CANCELLED, message=reason or USER_CANCELLED))
        elif job.status in (JobStatus.FAILED, JobStatus.EXPIRED):
            await self.push(job, messages.message(messages.FAILED, message=reason or end_message(job, None)))

    def _online(self, row: ScanRow) -> bool:
        return self.now() - row.user_seen_at <= timedelta(seconds=self.settings.user_online_seconds)

    def _held_by(self, manager_id: int, node_id: str) -> Callable[[Job], None]:
        owned = scan_guard(manager_id)

        def guard(job: Job) -> None:
            owned(job)
            if job.status.is_final and job.leased_by == node_id:
                return  # the cancel rule decides: already cancelled is a no-op
            if not self.engine.holds_live_lease(job, LeaseRef(node_id)):
                raise LeaseMismatch(job.id, node_id)

        return guard

    async def _failed(self, conn: AsyncConnection, change: Change) -> None:
        if change.job.status is JobStatus.PENDING:  # retried: the next lease starts the scan afresh
            await self._reset(conn, change.job, phase="waiting", error_message=change.job.message)
        else:
            await self._ended(conn, change)

    async def _ended(self, conn: AsyncConnection, change: Change) -> None:
        await self.repo.update(
            conn, change.job.id, now=self.now(), error_message=change.job.message, choice_value=None
        )

    async def _reset(
        self, conn: AsyncConnection, job: Job, *, phase: str, error_message: str | None = None
    ) -> ScanRow:
        await self.repo.update(
            conn,
            job.id,
            now=self.now(),
            lease_epoch=job.lease_epoch,
            phase=phase,
            screenshots={},
            choice_type=None,
            choice_value=None,
            error_message=error_message,
        )
        return await self._row(conn, job)

    async def _row(self, conn: AsyncConnection, job: Job) -> ScanRow:
        row = await self.repo.get(job.id, conn=conn)
        if row is None:
            raise JobNotFound(job.id)
        return row

    async def _require_row(self, job: Job) -> ScanRow:
        row = await self.repo.get(job.id)
        if row is None:
            raise JobNotFound(job.id)
        return row

    async def _users_job(self, user_id: int, job_id: int, *, ended_ok: bool = False) -> Job:
        try:
            job = await self.engine.get(job_id)
        except JobNotFound as exc:
            raise ScanNotFound(job_id) from exc
        if job.kind != SCAN_KIND or job.subject_id != user_id:
            raise ScanNotFound(job_id)
        if job.status.is_final and not ended_ok:
            raise ScanEnded(job_id)
        return job

    async def _one_active(self, job: Job) -> None:
        """Two creates at once may both pass the check; the later job gives way."""
        found, _ = await self.engine.find(
            JobQuery(kind=SCAN_KIND, subject_id=job.subject_id, statuses=ACTIVE), limit=10
        )
        if any(other.id < job.id for other in found):
            await self.engine.cancel(job.id, reason="重复的扫码任务")
            raise ScanActive(job.subject_id)
