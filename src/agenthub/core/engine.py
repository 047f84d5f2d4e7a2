"""The engine: the one place jobs are created, leased, moved on and expired, for every protocol."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from agenthub.core import rules
from agenthub.core.clock import Clock
from agenthub.core.errors import JobNotFound
from agenthub.core.jobs import (
    GROUPABLE,
    Backoff,
    Change,
    EventDraft,
    Job,
    JobEvent,
    JobFilter,
    JobQuery,
    JobSearch,
    KindPolicy,
    LeaseRef,
    NewJob,
)
from agenthub.core.nodes import AgentNode, NodeSighting, NodeStatus
from agenthub.core.ports import (
    EngineObserver,
    EventSink,
    Guard,
    JobStore,
    NodeStore,
    QuietObserver,
    Rule,
    TxHook,
)

log = logging.getLogger(__name__)


# A node heard from again with nothing new is written at most this often (or a quarter of its kind's silence
# window, if that is shorter): presence must not cost a write per request.
PRESENCE_WRITE_EVERY = timedelta(seconds=5)


def job_channel(kind: str) -> str:
    return f"jobs.{kind}"


NODES_CHANNEL = "nodes"  # operator changes to nodes (disabled, enabled)


class Engine:
    def __init__(
        self,
        jobs: JobStore,
        nodes: NodeStore,
        *,
        clock: Clock,
        sink: EventSink,
        policies: Mapping[str, KindPolicy] | None = None,
        default_silence: float = 120.0,
        backoff: Backoff | None = None,
        backoff_by_kind: Mapping[str, Backoff] | None = None,
        spread: Callable[[], float] = random.random,
        observer: EngineObserver | None = None,
    ) -> None:
        self._jobs = jobs
        self._nodes = nodes
        self.clock = clock
        self._sink = sink
        self._policies: dict[str, KindPolicy] = dict(policies or {})
        self._default_silence = timedelta(seconds=default_silence)
        self._silence: dict[str, timedelta] = {}
        self._backoff = backoff or Backoff()
        self._backoff_by_kind = dict(backoff_by_kind or {})
        self._spread = spread
        self._observer: EngineObserver = observer or QuietObserver()
        # The node as this replica last wrote it, to skip presence writes that would change nothing but time.
        self._presence: dict[tuple[str, str], AgentNode] = {}

    def register_kind(self, kind: str, policy: KindPolicy) -> None:
        self._policies[kind] = policy

    def policy(self, kind: str) -> KindPolicy:
        """The kind's policy; its retry backoff is, first found: the operator's per-kind setting, the
        protocol's own, the engine's default."""
        policy = self._policies.get(kind, KindPolicy())
        backoff = self._backoff_by_kind.get(kind) or policy.backoff or self._backoff
        return replace(policy, backoff=backoff)

    # -- jobs -------------------------------------------------------------------------------------------

    async def submit(self, new: NewJob, *, hook: TxHook | None = None) -> Job | None:
        """Creates a job; None when another job already holds its dedupe key. The hook (e.g. a protocol's
        side row for the job) commits in the same transaction as the job."""
        job = await self._jobs.insert(new, now=self.clock.now(), hook=hook)
        if job is not None:
            await self._announce(Change(job, EventDraft("created")))
        return job

    # -- reads --------------------------------------------------------------------------------------------

    async def get(self, job_id: int) -> Job:
        job = await self._jobs.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    async def get_by_external_id(self, kind: str, external_id: str) -> Job | None:
        return await self._jobs.get_by_external_id(kind, external_id)

    async def held_job(self, job_id: int, lease: LeaseRef) -> Job:
        """The job, if the caller holds its live lease; raises JobNotFound or LeaseMismatch otherwise."""
        job = await self.get(job_id)
        rules.require_live_lease(job, lease, self.clock.now())
        return job

    def holds_live_lease(self, job: Job, lease: LeaseRef) -> bool:
        return rules.holds_live_lease(job, lease, self.clock.now())

    async def events(self, job_id: int) -> list[JobEvent]:
        return await self._jobs.events(job_id)

    async def find(self, query: JobQuery, *, limit: int = 100, offset: int = 0) -> tuple[list[Job], int]:
        """A page of the jobs the query names, and how many it names in all."""
        return await self._jobs.find(query, limit=limit, offset=offset)

    async def count(self, query: JobQuery) -> int:
        return await self._jobs.count(query)

    async def count_by(self, query: JobQuery, *fields: str) -> dict[tuple[Any, ...], int]:
        """How many jobs the query names, grouped by the given fields (e.g. "status", "leased_by")."""
        unknown = set(fields) - GROUPABLE
        if unknown or not fields:
            raise ValueError(f"cannot group jobs by {sorted(unknown) or 'nothing'}")
        return await self._jobs.count_by(query, fields)

    def kinds(self) -> list[str]:
        """The job kinds registered on this engine (each protocol registers its own)."""
        return sorted(self._policies)

    async def node_counts(self) -> dict[tuple[str, str], int]:
        """How many nodes there are, by (kind, status), as the presence sweep last left them."""
        return await self._nodes.counts()

    async def search_jobs(self, search: JobSearch, *, limit: int = 50) -> list[Job]:
        """Jobs of every kind for the console: newest first, keyset-paged by `search.before_id`."""
        return await self._jobs.search(search, limit=limit)

    async def lease(
        self, job_filter: JobFilter, *, node_id: str, limit: int, lease_for: timedelta
    ) -> list[Job]:
        """Returns lapsed leases to the queue (all of them: always correct), then leases due jobs, in one
        transaction (the expiry check is two index probes, O(due jobs)). A disabled node leases nothing."""
        expired, leased = await self._jobs.lease(
            job_filter,
            node_id=node_id,
            limit=limit,
            now=self.clock.now(),
            lease_for=lease_for,
            expire=self._expiry_rule,
        )
        for change in expired:
            await self._announce(change)
        for job in leased:
            await self._announce(Change(job, EventDraft("leased", node_id=node_id)))
        return leased

    async def lease_one(
        self, job_id: int, *, node_id: str, lease_for: timedelta, guard: Guard | None = None
    ) -> Change:
        """Leases one named pending job to a node (push protocols choose the job and the node themselves).

        Raises InvalidTransition when the job is no longer pending (e.g. another replica leased it first) or
        an operator disabled the node.
        """
        now = self.clock.now()
        return await self._apply(
            job_id,
            lambda job: rules.lease(job, node_id=node_id, now=now, lease_for=lease_for),
            guard=guard,
            lessee=node_id,
        )

    async def start(
        self,
        job_id: int,
        lease: LeaseRef,
        *,
        lease_for: timedelta,
        message: str | None = None,
        hook: TxHook | None = None,
        guard: Guard | None = None,
    ) -> Change:
        now = self.clock.now()
        return await self._apply(
            job_id,
            lambda job: rules.start(job, lease, now=now, lease_for=lease_for, message=message),
            hook,
            guard,
        )

    async def heartbeat(
        self,
        job_id: int,
        lease: LeaseRef,
        *,
        lease_for: timedelta,
        message: str | None = None,
        hook: TxHook | None = None,
        guard: Guard | None = None,
    ) -> Change:
        now = self.clock.now()
        return await self._apply(
            job_id,
            lambda job: rules.heartbeat(job, lease, now=now, lease_for=lease_for, message=message),
            hook,
            guard,
        )

    async def progress(
        self,
        job_id: int,
        lease: LeaseRef,
        *,
        percent: int,
        message: str | None = None,
        guard: Guard | None = None,
        hook: TxHook | None = None,
    ) -> Change:
        now = self.clock.now()
        return await self._apply(
            job_id,
            lambda job: rules.progress(job, lease, now=now, percent=percent, message=message),
            hook,
            guard,
        )

    async def complete(
        self,
        job_id: int,
        lease: LeaseRef,
        *,
        result: dict[str, Any] | None = None,
        message: str | None = None,
        hook: TxHook | None = None,
        guard: Guard | None = None,
    ) -> Change:
        now = self.clock.now()
        return await self._apply(
            job_id,
            lambda job: rules.complete(job, lease, now=now, result=result, message=message),
            hook,
            guard,
        )

    async def fail(
        self,
        job_id: int,
        lease: LeaseRef,
        *,
        error_code: str | None = None,
        message: str | None = None,
        result: dict[str, Any] | None = None,
        retryable: bool = True,
        hook: TxHook | None = None,
        guard: Guard | None = None,
    ) -> Change:
        now = self.clock.now()

        def rule(job: Job) -> Change:
            return rules.fail(
                job,
                lease,
                now=now,
                policy=self.policy(job.kind),
                error_code=error_code,
                message=message,
                result=result,
                retryable=retryable,
                spread=self._spread(),
            )

        return await self._apply(job_id, rule, hook, guard)

    async def release(
        self, job_id: int, lease: LeaseRef, *, reason: str, guard: Guard | None = None
    ) -> Change:
        now = self.clock.now()
        return await self._apply(
            job_id,
            lambda job: rules.release(
                job, lease, now=now, policy=self.policy(job.kind), reason=reason, spread=self._spread()
            ),
            guard=guard,
        )

    async def cancel(
        self,
        job_id: int,
        *,
        reason: str | None = None,
        hook: TxHook | None = None,
        guard: Guard | None = None,
    ) -> Change:
        now = self.clock.now()
        return await self._apply(job_id, lambda job: rules.cancel(job, now=now, reason=reason), hook, guard)

    async def expire_due(self) -> list[Change]:
        """Requeues jobs whose lease ran out, ends jobs past their deadline. Safe to run anywhere."""
        changes = await self._jobs.expire_due(self._expiry_rule, now=self.clock.now())
        for change in changes:
            await self._announce(change)
        return changes

    def _expiry_rule(self, job: Job, now: datetime) -> Change:
        return rules.expire(job, now=now, policy=self.policy(job.kind), spread=self._spread())

    async def _apply(
        self,
        job_id: int,
        rule: Rule,
        hook: TxHook | None = None,
        guard: Guard | None = None,
        lessee: str | None = None,
    ) -> Change:
        if guard is not None:
            unguarded = rule

            def rule(job: Job) -> Change:
                guard(job)
                return unguarded(job)

        change = await self._jobs.apply(job_id, rule, hook=hook, lessee=lessee)
        await self._announce(change)
        return change

    async def _announce(self, change: Change) -> None:
        if change.event is None:
            return
        job, event = change.job, change.event
        self._observer.job_changed(change)
        message = {
            "job_id": job.id,
            "kind": job.kind,
            "event": event.type,
            "status": job.status.value,
            "node_id": event.node_id,
            "owner_id": job.owner_id,
            "subject_id": job.subject_id,
            "external_id": job.external_id,
            "target_node": job.target_node,
        }
        try:
            await self._sink.publish(job_channel(job.kind), message)
        except Exception:  # a live push must never undo a committed change
            log.exception("could not publish %s of job %s", event.type, job.id)

    # -- nodes and presence -------------------------------------------------------------------------------

    def register_node_kind(self, kind: str, *, silence: timedelta) -> None:
        """Nodes of this kind go offline after `silence` without being heard from (default: the engine's)."""
        self._silence[kind] = silence

    def silence(self, kind: str) -> timedelta:
        return self._silence.get(kind, self._default_silence)

    def is_online(self, node: AgentNode) -> bool:
        return node.is_online(self.clock.now(), self.silence(node.kind))

    async def node_seen(self, sighting: NodeSighting) -> AgentNode:
        """Records that a node was heard from; returns the node as stored. A sighting that changes nothing
        (same owner, version and info, still online) within a few seconds of the last write is not written."""
        now = self.clock.now()
        key = (sighting.kind, sighting.node_id)
        known = self._presence.get(key)
        if known is not None and _adds_nothing(sighting, known):
            every = min(PRESENCE_WRITE_EVERY, self.silence(sighting.kind) / 4)
            if timedelta(0) <= now - known.last_seen_at < every:
                self._observer.node_seen(known)
                return known
        node = await self._nodes.seen(sighting, now=now)
        self._presence[key] = node
        self._observer.node_seen(node)
        return node

    async def node_gone(self, kind: str, node_id: str) -> None:
        self._presence.pop((kind, node_id), None)
        await self._nodes.mark_offline(kind, node_id, now=self.clock.now())
        # A sighting remembered while the mark was on its way may have been written before it: forget it, so
        # the node's next sighting is written whatever the time.
        self._presence.pop((kind, node_id), None)
        self._observer.node_gone(kind, node_id, reason="disconnected")

    async def node(self, kind: str, node_id: str) -> AgentNode | None:
        return await self._nodes.get(kind, node_id)

    async def nodes(self, kind: str, *, owner_id: int | None = None) -> list[AgentNode]:
        return await self._nodes.list_nodes(kind, owner_id=owner_id)

    async def mark_silent_nodes_offline(self) -> list[AgentNode]:
        """Marks nodes offline whose kind's silence window has passed since they were last heard from."""
        now = self.clock.now()
        gone: list[AgentNode] = []
        for kind, silence in self._silence.items():
            gone += await self._nodes.mark_stale_offline(now=now, silent_for=silence, kinds=(kind,))
        gone += await self._nodes.mark_stale_offline(
            now=now, silent_for=self._default_silence, exclude_kinds=tuple(self._silence)
        )
        for node in gone:
            self._presence.pop((node.kind, node.node_id), None)
            self._observer.node_gone(node.kind, node.node_id, reason="silent")
        return gone

    # -- operator actions (the console) -------------------------------------------------------------------

    async def all_nodes(self) -> list[AgentNode]:
        """Every node of every kind."""
        return await self._nodes.all_nodes()

    async def cancel_by(self, job_id: int, *, operator: str, reason: str | None = None) -> Change:
        now = self.clock.now()
        return await self._apply(
            job_id, lambda job: rules.cancel_by(job, now=now, operator=operator, reason=reason)
        )

    async def retry_now(self, job_id: int, *, operator: str) -> Change:
        """A failed job, or one waiting out a retry backoff, back to the queue now (see rules.retry_now)."""
        now = self.clock.now()
        return await self._apply(job_id, lambda job: rules.retry_now(job, now=now, operator=operator))

    async def set_node_disabled(
        self, kind: str, node_id: str, *, disabled: bool, operator: str
    ) -> AgentNode | None:
        """Disables or enables a node (a disabled node leases nothing); announced on `nodes`, with who."""
        node = await self._nodes.set_disabled(
            kind, node_id, by=operator if disabled else None, now=self.clock.now()
        )
        if node is not None:
            event = "disabled" if disabled else "enabled"
            log.info("node %s/%s %s by %s", kind, node_id, event, operator)
            try:
                await self._sink.publish(
                    NODES_CHANNEL, {"kind": kind, "node_id": node_id, "event": event, "by": operator}
                )
            except Exception:
                log.exception("could not publish %s of node %s", event, node_id)
        return node


def _adds_nothing(sighting: NodeSighting, known: AgentNode) -> bool:
    return (
        known.status is NodeStatus.ONLINE
        and sighting.owner_id in (None, known.owner_id)
        and sighting.version in (None, known.version)
        and (sighting.info is None or sighting.info == known.info)
    )
