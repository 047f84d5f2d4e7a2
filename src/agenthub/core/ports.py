"""What the engine needs from the outside world, as protocols. Storage and bus implement them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from agenthub.core.jobs import Change, Job, JobEvent, JobFilter, JobQuery, JobSearch, NewJob
from agenthub.core.nodes import AgentNode, NodeSighting

Rule = Callable[[Job], Change]
# A protocol's own writes that must commit with a job change (e.g. copying a result onto its user row).
# The first argument is the storage's open transaction (it offers `await conn.execute(...)`); core never
# looks inside it. A hook awaits nothing but that connection: it runs inside the storage's unit of work.
TxHook = Callable[[Any, Change], Awaitable[None]]
ExpiryRule = Callable[[Job, datetime], Change]
# A caller's own check on the locked job before the rule runs (e.g. "this job belongs to my manager").
Guard = Callable[[Job], None]


class JobStore(Protocol):
    async def insert(self, new: NewJob, *, now: datetime, hook: TxHook | None = None) -> Job | None:
        """Inserts a job and its 'created' event (and runs the hook) in one transaction.
        None when its dedupe key is already taken."""

    async def get(self, job_id: int) -> Job | None: ...

    async def get_by_external_id(self, kind: str, external_id: str) -> Job | None: ...

    async def apply(
        self, job_id: int, rule: Rule, *, hook: TxHook | None = None, lessee: str | None = None
    ) -> Change:
        """Loads the job under a lock, applies the rule and writes the result with its event.
        With a `lessee` (the rule leases the job to that node), refuses with InvalidTransition, in the same
        transaction, when an operator disabled that node (`core.rules.may_lease`)."""

    async def lease(
        self,
        job_filter: JobFilter,
        *,
        node_id: str,
        limit: int,
        now: datetime,
        lease_for: timedelta,
        expire: ExpiryRule | None = None,
    ) -> tuple[list[Change], list[Job]]:
        """Leases up to `limit` due pending jobs, highest priority then oldest first; never one twice.
        With `expire`, first applies it (in the same transaction) to every job whose lease or deadline ran
        out; returns those changes and the leased jobs. A node an operator disabled leases nothing
        (`core.rules.may_lease`, read in the same transaction)."""

    async def expire_due(self, rule: ExpiryRule, *, now: datetime, limit: int = 500) -> list[Change]:
        """Applies the expiry rule to held jobs whose lease ran out and active jobs past their deadline."""

    async def events(self, job_id: int) -> list[JobEvent]: ...

    async def find(self, query: JobQuery, *, limit: int, offset: int) -> tuple[list[Job], int]: ...

    async def count(self, query: JobQuery) -> int: ...

    async def count_by(self, query: JobQuery, fields: Sequence[str]) -> dict[tuple[Any, ...], int]: ...

    async def search(self, search: JobSearch, *, limit: int) -> list[Job]:
        """Jobs of any kind, newest first, a keyset page at a time (the console)."""


class NodeStore(Protocol):
    async def seen(self, sighting: NodeSighting, *, now: datetime) -> AgentNode: ...

    async def get(self, kind: str, node_id: str) -> AgentNode | None: ...

    async def list_nodes(self, kind: str, *, owner_id: int | None = None) -> list[AgentNode]: ...

    async def mark_offline(self, kind: str, node_id: str, *, now: datetime) -> None: ...

    async def mark_stale_offline(
        self,
        *,
        now: datetime,
        silent_for: timedelta,
        kinds: Sequence[str] | None = None,
        exclude_kinds: Sequence[str] = (),
    ) -> list[AgentNode]: ...

    async def counts(self) -> dict[tuple[str, str], int]:
        """How many nodes there are, by (kind, status)."""

    async def all_nodes(self) -> list[AgentNode]: ...

    async def set_disabled(
        self, kind: str, node_id: str, *, by: str | None, now: datetime
    ) -> AgentNode | None: ...


class EventSink(Protocol):
    """Where the engine announces changes after they are committed (the live bus)."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...


class EngineObserver(Protocol):
    """Told of what the engine did, after it is committed (metrics, logs). Calls are synchronous and must
    be cheap; an observer never fails the engine's call (it keeps its own errors to itself)."""

    def job_changed(self, change: Change) -> None: ...

    def node_seen(self, node: AgentNode) -> None: ...

    def node_gone(self, kind: str, node_id: str, *, reason: str) -> None: ...


class QuietObserver:
    """The observer of an engine nobody watches."""

    def job_changed(self, change: Change) -> None:
        return None

    def node_seen(self, node: AgentNode) -> None:
        return None

    def node_gone(self, kind: str, node_id: str, *, reason: str) -> None:
        return None
