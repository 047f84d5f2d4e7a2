"""The console's engine rules (cancel with who, retry now) and "why pending", without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from agenthub.console.why import pending_reasons
from agenthub.core import rules
from agenthub.core.errors import InvalidTransition
from agenthub.core.jobs import Job, JobEvent, JobStatus
from agenthub.core.nodes import AgentNode, NodeStatus

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def job(**values: object) -> Job:
    base = Job(
        id=1,
        kind="k",
        type="t",
        status=JobStatus.PENDING,
        payload={},
        priority=0,
        scheduled_at=NOW,
        attempts=0,
        max_attempts=3,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **values)  # type: ignore[arg-type]


def agent(node_id: str, *, owner: int | None = None, disabled_by: str | None = None) -> AgentNode:
    return AgentNode(
        kind="k",
        node_id=node_id,
        status=NodeStatus.ONLINE,
        last_seen_at=NOW,
        created_at=NOW,
        owner_id=owner,
        disabled_at=NOW if disabled_by else None,
        disabled_by=disabled_by,
    )


def test_cancel_by_records_the_operator() -> None:
    change = rules.cancel_by(job(status=JobStatus.RUNNING, leased_by="n1"), now=NOW, operator="root")
    assert change.job.status is JobStatus.CANCELLED
    assert change.event is not None and change.event.data == {"by": "root"}
    already = rules.cancel_by(change.job, now=NOW, operator="root")
    assert already.event is None


def test_retry_now_revives_a_failed_job_with_one_more_attempt() -> None:
    failed = job(status=JobStatus.FAILED, attempts=3, finished_at=NOW, deadline=NOW - timedelta(seconds=1))
    change = rules.retry_now(failed, now=NOW, operator="root")
    assert change.job.status is JobStatus.PENDING
    assert change.job.max_attempts == 4 and change.job.finished_at is None and change.job.deadline is None
    assert change.event is not None and change.event.type == "retry_now"
    assert change.event.data == {"by": "root", "from": "failed"}


def test_retry_now_ends_a_backoff_wait() -> None:
    waiting = job(scheduled_at=NOW + timedelta(minutes=5), attempts=1)
    change = rules.retry_now(waiting, now=NOW, operator="ops")
    assert change.job.scheduled_at == NOW and change.job.max_attempts == 3


@pytest.mark.parametrize("status", [JobStatus.SUCCESS, JobStatus.CANCELLED, JobStatus.RUNNING])
def test_retry_now_refuses_what_is_not_failed_or_waiting(status: JobStatus) -> None:
    with pytest.raises(InvalidTransition):
        rules.retry_now(job(status=status), now=NOW, operator="root")
    with pytest.raises(InvalidTransition):
        rules.retry_now(job(), now=NOW, operator="root")  # pending and due: nothing to hurry


def test_a_disabled_node_may_not_lease() -> None:
    assert rules.may_lease(False) and not rules.may_lease(True)


def why(j: Job, *, nodes: list[AgentNode], events: list[JobEvent] | None = None) -> list[str]:
    return [
        r.code for r in pending_reasons(j, now=NOW, events=events or [], nodes=nodes, online=lambda n: True)
    ]


def test_why_names_the_retry_backoff_from_the_failure_event() -> None:
    retry_at = NOW + timedelta(seconds=30)
    failed = JobEvent(id=1, job_id=1, type="fail", created_at=NOW, data={"retry_at": retry_at.isoformat()})
    j = job(scheduled_at=retry_at, attempts=1)
    assert why(j, nodes=[agent("a")], events=[failed]) == ["retry_backoff"]
    assert why(j, nodes=[agent("a")]) == ["scheduled"]


def test_why_looks_at_the_agents_that_may_take_the_job() -> None:
    assert why(job(owner_id=1), nodes=[agent("a", owner=2)]) == ["no_agent"]
    assert why(job(owner_id=1), nodes=[agent("a", owner=1)]) == ["waiting"]
    assert why(job(target_node="b"), nodes=[agent("a")]) == ["agent_offline"]
    assert why(job(), nodes=[agent("a", disabled_by="root")]) == ["agents_disabled"]
    assert why(job(status=JobStatus.SUCCESS), nodes=[]) == ["not_pending"]
