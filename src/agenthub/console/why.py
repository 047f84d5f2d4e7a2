""" "Why is this job still pending?", answered in words from the engine's own state: its schedule, the retry
backoff its last failure set, and whether any agent that may take it is online and enabled. Pure: the
caller brings the job, its events, the nodes of its protocol and the time; protocol hooks add their own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from agenthub.core.jobs import Job, JobEvent, JobStatus
from agenthub.core.nodes import AgentNode

RETRY_EVENTS = frozenset({"fail", "timeout_requeued"})


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # not_pending, retry_backoff, scheduled, no_agent, agent_offline, agents_disabled, waiting, ...
    text: str
    until: datetime | None = None


def at(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds")


def pending_reasons(
    job: Job,
    *,
    now: datetime,
    events: Sequence[JobEvent],
    nodes: Sequence[AgentNode],
    online: Callable[[AgentNode], bool],
) -> list[Reason]:
    if job.status is not JobStatus.PENDING:
        return [Reason("not_pending", f"it is not pending: it is {job.status.value}")]
    reasons: list[Reason] = []
    if job.scheduled_at > now:
        reasons.append(_waiting_reason(job, now, events))
    reasons += _agent_reasons(job, nodes, online)
    if not reasons:
        reasons.append(
            Reason("waiting", f"due since {at(job.scheduled_at)}; waiting for an eligible agent to take it")
        )
    return reasons


def _waiting_reason(job: Job, now: datetime, events: Sequence[JobEvent]) -> Reason:
    wait = round((job.scheduled_at - now).total_seconds())
    last_retry = next((e for e in reversed(events) if e.type in RETRY_EVENTS), None)
    retry_at = (last_retry.data or {}).get("retry_at") if last_retry is not None else None
    if last_retry is not None and retry_at is not None and _same_instant(retry_at, job.scheduled_at):
        return Reason(
            "retry_backoff",
            f"retry backoff after attempt {job.attempts} ({last_retry.type}: "
            f"{last_retry.message or last_retry.error_code or 'no message'}) until {at(job.scheduled_at)}, "
            f"in {wait}s",
            job.scheduled_at,
        )
    return Reason(
        "scheduled", f"scheduled for later: due at {at(job.scheduled_at)}, in {wait}s", job.scheduled_at
    )


def eligible_nodes(job: Job, nodes: Sequence[AgentNode]) -> list[AgentNode]:
    """The nodes that may take the job: the one it is addressed to, else its owner's, else any."""
    if job.target_node is not None:
        return [n for n in nodes if n.node_id == job.target_node]
    if job.owner_id is not None:
        return [n for n in nodes if n.owner_id == job.owner_id]
    return list(nodes)


def _agent_reasons(job: Job, nodes: Sequence[AgentNode], online: Callable[[AgentNode], bool]) -> list[Reason]:
    eligible = eligible_nodes(job, nodes)
    live = [n for n in eligible if online(n)]
    if not live:
        return [_nobody_online(job, eligible)]
    enabled = [n for n in live if not n.disabled]
    if not enabled:
        names = ", ".join(f"{n.node_id} (by {n.disabled_by})" for n in live)
        return [Reason("agents_disabled", f"every eligible agent online is disabled by an operator: {names}")]
    return []


def _nobody_online(job: Job, eligible: Sequence[AgentNode]) -> Reason:
    seen = max((n.last_seen_at for n in eligible), default=None)
    last = f" (last seen {at(seen)})" if seen is not None else " (none has ever connected)"
    if job.target_node is not None:
        return Reason("agent_offline", f"its agent {job.target_node} is offline{last}")
    if job.owner_id is not None:
        return Reason("no_agent", f"no agent of its owner (#{job.owner_id}) is online{last}")
    return Reason("no_agent", f"no agent of its protocol is online{last}")


def _same_instant(text: object, instant: datetime) -> bool:
    try:
        return abs((datetime.fromisoformat(str(text)) - instant).total_seconds()) < 1
    except ValueError:
        return False
