"""The job model: what a job is, how callers name a lease, and per-kind policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal


class JobStatus(StrEnum):
    PENDING = "pending"
    LEASED = "leased"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def is_held(self) -> bool:
        return self in (JobStatus.LEASED, JobStatus.RUNNING)


FINAL_STATUSES = frozenset({JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED})
ACTIVE_STATUSES = frozenset({JobStatus.PENDING, JobStatus.LEASED, JobStatus.RUNNING})


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    type: str
    status: JobStatus
    payload: dict[str, Any]
    priority: int
    scheduled_at: datetime
    attempts: int
    max_attempts: int
    created_at: datetime
    updated_at: datetime
    owner_id: int | None = None
    subject_id: int | None = None
    external_id: str | None = None
    target_node: str | None = None
    dedupe_key: str | None = None
    leased_by: str | None = None
    lease_epoch: int = 0
    lease_until: datetime | None = None
    deadline: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: int | None = None
    result: dict[str, Any] | None = None
    error_code: str | None = None
    message: str | None = None

    def held_by(self, lease: LeaseRef) -> bool:
        if not self.status.is_held or self.leased_by != lease.node_id:
            return False
        return lease.epoch is None or lease.epoch == self.lease_epoch


@dataclass(frozen=True, slots=True)
class NewJob:
    kind: str
    type: str
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    scheduled_at: datetime | None = None
    max_attempts: int = 3
    owner_id: int | None = None
    subject_id: int | None = None
    external_id: str | None = None
    target_node: str | None = None
    dedupe_key: str | None = None
    deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class LeaseRef:
    """Names the lease a write claims to hold: the node, and where the protocol carries one, the epoch.

    The epoch increases every time the job is leased, so a write from an earlier lease of the same node
    is refused too.
    """

    node_id: str
    epoch: int | None = None


@dataclass(frozen=True, slots=True)
class JobFilter:
    """Which pending jobs a node may lease."""

    kind: str
    owner_id: int | None = None
    types: tuple[str, ...] | None = None
    node_id: str | None = None  # jobs addressed to this node (target_node) or to anyone


JobOrder = Literal["newest", "oldest", "queue"]  # queue: the order jobs are leased in
GROUPABLE = frozenset({"status", "type", "owner_id", "subject_id", "leased_by", "target_node"})


@dataclass(frozen=True, slots=True)
class JobQuery:
    """Which jobs a read names; every condition given must hold."""

    kind: str
    owner_id: int | None = None
    subject_id: int | None = None
    statuses: tuple[JobStatus, ...] | None = None
    types: tuple[str, ...] | None = None
    ids: tuple[int, ...] | None = None
    max_id: int | None = None  # id <= max_id (e.g. a job's place in its queue)
    target_node: str | None = None
    leased_by: str | None = None
    due_at: datetime | None = None  # scheduled_at <= due_at
    order: JobOrder = "newest"


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long a job waits before its next attempt: base * factor^(attempt - 1), capped at max, spread by
    +-jitter (a share of the delay) so that jobs failed together do not come back together."""

    base_seconds: float = 0.0
    factor: float = 2.0
    max_seconds: float = 300.0
    jitter: float = 0.0

    def delay(self, attempt: int, *, spread: float) -> timedelta:
        """The wait after the given failed attempt (1 = the first); `spread` in [0, 1] picks the jitter."""
        exponent = min(max(attempt - 1, 0), 64)
        raw = min(self.max_seconds, self.base_seconds * self.factor**exponent)
        return timedelta(seconds=raw * (1 + self.jitter * (2 * spread - 1)))


@dataclass(frozen=True, slots=True)
class KindPolicy:
    """How a kind of job behaves when things go wrong."""

    exhausted_status: JobStatus = JobStatus.FAILED  # where a job ends when its lease runs out at max attempts
    retry_delay: timedelta = timedelta(0)  # the least wait before a retry, whatever the backoff says
    non_retryable_errors: frozenset[str] = frozenset()
    backoff: Backoff | None = None  # None: the engine's default (AGENTHUB_RETRY_*)

    def retry_wait(self, attempt: int, *, spread: float) -> timedelta:
        backoff = self.backoff.delay(attempt, spread=spread) if self.backoff else timedelta(0)
        return max(self.retry_delay, backoff)


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event row to write together with a state change."""

    type: str
    node_id: str | None = None
    message: str | None = None
    error_code: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class JobEvent:
    id: int
    job_id: int
    type: str
    created_at: datetime
    node_id: str | None = None
    message: str | None = None
    error_code: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What applying a rule gives: the job as it is now, and the event to record (None: nothing changed)."""

    job: Job
    event: EventDraft | None

    @property
    def changed(self) -> bool:
        return self.event is not None


@dataclass(frozen=True, slots=True)
class JobSearch:
    """The operator's view of jobs: across kinds, newest first, a page at a time by keyset (`before_id`),
    so the thousandth page costs what the first does."""

    kinds: tuple[str, ...] | None = None
    statuses: tuple[JobStatus, ...] | None = None
    types: tuple[str, ...] | None = None
    leased_by: str | None = None
    text: str | None = None  # a job id, an external id or a holder node, matched exactly
    before_id: int | None = None  # id < before_id
