"""The console's reads and actions over the engine, with each running protocol's hooks for what only the
protocol knows (a node's load, a job's logs, protocol-specific pending reasons)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agenthub.console.errors import NotFound
from agenthub.console.pulse import Pulse
from agenthub.console.sessions import Sessions
from agenthub.console.settings import ConsoleSettings
from agenthub.console.views import event_row, job_detail, job_row, log_row, node_row
from agenthub.console.why import Reason, pending_reasons
from agenthub.core.engine import Engine, job_channel
from agenthub.core.jobs import Job, JobQuery, JobSearch, JobStatus
from agenthub.core.nodes import AgentNode
from agenthub.server.console_hooks import ConsoleHooks, NodeLoad
from agenthub.server.protocol import ProtocolSpec
from agenthub.server.runtime import Runtime

log = logging.getLogger(__name__)
AnySpec = ProtocolSpec[Any, Any]
PAGE_MAX = 200
NODE_JOBS = 50


@dataclass(frozen=True, slots=True)
class Hooked:
    """A protocol the console knows, with its hooks and (when it runs in this process) its state."""

    name: str
    hooks: ConsoleHooks[Any]
    state: Any | None


class ConsoleService:
    def __init__(
        self, runtime: Runtime, settings: ConsoleSettings, specs: Sequence[AnySpec], sessions: Sessions
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.sessions = sessions
        self.specs = [spec for spec in specs if spec.console is not None]
        self.pulse = Pulse(self.protocols())

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    # -- which protocol owns what ---------------------------------------------------------------------------

    def protocols(self) -> list[str]:
        return [spec.name for spec in self.specs]

    def job_kinds(self, protocol: str | None = None) -> list[str]:
        return [k for spec in self.specs if protocol in (None, spec.name) for k in _hooks(spec).job_kinds]

    def channels(self) -> list[str]:
        return [job_channel(kind) for kind in self.job_kinds()]

    def protocol_of_job(self, kind: str) -> str:
        return next((s.name for s in self.specs if kind in _hooks(s).job_kinds), kind.split(".")[0])

    def protocol_of_node(self, kind: str) -> str:
        return next((s.name for s in self.specs if kind in _hooks(s).node_kinds), kind.split(".")[0])

    def _hooked(self, protocol: str) -> Hooked | None:
        for spec in self.specs:
            if spec.name == protocol:
                running = spec.name in self.runtime.states
                return Hooked(spec.name, _hooks(spec), spec.state_of(self.runtime) if running else None)
        return None

    # -- fleet ------------------------------------------------------------------------------------

    async def fleet(self, *, protocol: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        nodes = await self.engine.all_nodes()
        if protocol:
            nodes = [n for n in nodes if self.protocol_of_node(n.kind) == protocol]
        rows = await self._node_rows(nodes)
        if state == "online":  # a disabled node may be online too
            return [row for row in rows if row["online"]]
        if state == "offline":
            return [row for row in rows if not row["online"]]
        if state == "disabled":
            return [row for row in rows if row["disabled"]]
        return rows

    async def node(self, kind: str, node_id: str) -> dict[str, Any]:
        node = await self.engine.node(kind, node_id)
        if node is None:
            raise NotFound(f"node {kind}/{node_id} not found")
        (row,) = await self._node_rows([node])
        kinds = tuple(self.job_kinds(row["protocol"])) or None
        jobs = await self.engine.search_jobs(JobSearch(kinds=kinds, leased_by=node_id), limit=NODE_JOBS)
        return {**row, "jobs": [job_row(job, self.protocol_of_job(job.kind)) for job in jobs]}

    async def _node_rows(self, nodes: Sequence[AgentNode]) -> list[dict[str, Any]]:
        loads: dict[tuple[str, str], NodeLoad] = {}
        by_protocol: dict[str, list[AgentNode]] = {}
        for node in nodes:
            by_protocol.setdefault(self.protocol_of_node(node.kind), []).append(node)
        for protocol, members in by_protocol.items():
            hooked = self._hooked(protocol)
            if hooked is None or hooked.state is None or hooked.hooks.describe_load is None:
                continue
            try:
                described = await hooked.hooks.describe_load(hooked.state, members)
            except Exception:  # one protocol's view must not take the fleet page down
                log.exception("console: %s could not describe its nodes' load", protocol)
                continue
            for node in members:
                if node.node_id in described:
                    loads[(node.kind, node.node_id)] = described[node.node_id]
        return [
            node_row(
                node,
                self.protocol_of_node(node.kind),
                online=self.engine.is_online(node),
                load=loads.get((node.kind, node.node_id)),
            )
            for node in nodes
        ]

    # -- jobs ------------------------------------------------------------------------------------

    async def jobs(
        self,
        *,
        protocol: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        job_type: str | None = None,
        node: str | None = None,
        q: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        kinds: tuple[str, ...] | None = None
        if kind:
            kinds = (kind,)
        elif protocol:
            kinds = tuple(self.job_kinds(protocol)) or (f"{protocol}.",)
        search = JobSearch(
            kinds=kinds,
            statuses=(JobStatus(status),) if status else None,
            types=(job_type,) if job_type else None,
            leased_by=node or None,
            text=q or None,
            before_id=before,
        )
        limit = max(1, min(limit, PAGE_MAX))
        found: list[Job] = await self.engine.search_jobs(search, limit=limit + 1)
        page = found[:limit]
        return {
            "jobs": [job_row(job, self.protocol_of_job(job.kind)) for job in page],
            "next_before": page[-1].id if len(found) > limit else None,
        }

    async def job(self, job_id: int) -> dict[str, Any]:
        job: Job = await self.engine.get(job_id)
        protocol = self.protocol_of_job(job.kind)
        events = await self.engine.events(job_id)
        return {
            "job": job_detail(job, protocol),
            "events": [event_row(e) for e in events],
            "logs": [log_row(line) for line in await self._logs(protocol, job)],
            "retries": _retry_schedule(events),
            "why": [_reason(r) for r in await self._why(protocol, job, events)],
        }

    async def why(self, job_id: int) -> dict[str, Any]:
        job: Job = await self.engine.get(job_id)
        reasons = await self._why(self.protocol_of_job(job.kind), job, await self.engine.events(job_id))
        return {"job_id": job.id, "status": job.status.value, "reasons": [_reason(r) for r in reasons]}

    async def _logs(self, protocol: str, job: Job) -> list[Any]:
        hooked = self._hooked(protocol)
        if hooked is None or hooked.state is None or hooked.hooks.job_logs is None:
            return []
        try:
            return list(await hooked.hooks.job_logs(hooked.state, job))
        except Exception:
            log.exception("console: %s could not read the logs of job %s", protocol, job.id)
            return []

    async def _why(self, protocol: str, job: Job, events: Sequence[Any]) -> list[Reason]:
        hooked = self._hooked(protocol)
        node_kinds = hooked.hooks.node_kinds if hooked is not None else ()
        nodes = [n for n in await self.engine.all_nodes() if n.kind in node_kinds]
        reasons = pending_reasons(
            job, now=self.engine.clock.now(), events=events, nodes=nodes, online=self.engine.is_online
        )
        if job.status is not JobStatus.PENDING or hooked is None or hooked.state is None:
            return reasons
        if hooked.hooks.pending_reasons is not None:
            try:
                extra = await hooked.hooks.pending_reasons(hooked.state, job)
            except Exception:
                log.exception("console: %s could not explain job %s", protocol, job.id)
                extra = []
            reasons = [r for r in reasons if r.code != "waiting" or not extra]
            reasons += [Reason(protocol, text) for text in extra]
        return reasons

    # -- actions ------------------------------------------------------------------------------------

    async def cancel(self, job_id: int, operator: str) -> dict[str, Any]:
        change = await self.engine.cancel_by(job_id, operator=operator, reason=f"cancelled by {operator}")
        log.info("job %s cancelled by operator %s", job_id, operator)
        return job_detail(change.job, self.protocol_of_job(change.job.kind))

    async def retry(self, job_id: int, operator: str) -> dict[str, Any]:
        change = await self.engine.retry_now(job_id, operator=operator)
        log.info("job %s retried now by operator %s", job_id, operator)
        return job_detail(change.job, self.protocol_of_job(change.job.kind))

    async def set_disabled(self, kind: str, node_id: str, *, disabled: bool, operator: str) -> dict[str, Any]:
        node = await self.engine.set_node_disabled(kind, node_id, disabled=disabled, operator=operator)
        if node is None:
            raise NotFound(f"node {kind}/{node_id} not found")
        (row,) = await self._node_rows([node])
        return row

    # -- sparklines ------------------------------------------------------------------------------------

    async def sample(self) -> None:
        """Queue depth per protocol (pending jobs), one point per sample interval."""
        depths = {}
        for protocol in self.protocols():
            depth = 0
            for kind in self.job_kinds(protocol):
                depth += await self.engine.count(JobQuery(kind, statuses=(JobStatus.PENDING,)))
            depths[protocol] = depth
        self.pulse.sample(depths, now=self.engine.clock.now())


def _hooks(spec: AnySpec) -> ConsoleHooks[Any]:
    assert spec.console is not None
    return spec.console


def _reason(reason: Reason) -> dict[str, Any]:
    return {"code": reason.code, "text": reason.text, "until": reason.until}


def _retry_schedule(events: Sequence[Any]) -> list[dict[str, Any]]:
    """Each failed or lost attempt and when it was (or is) due again."""
    return [
        {
            "at": e.created_at,
            "event": e.type,
            "attempts": (e.data or {}).get("attempts"),
            "retry_at": (e.data or {}).get("retry_at"),
            "message": e.message,
        }
        for e in events
        if e.type in ("fail", "timeout_requeued", "timeout", "retry_now")
    ]
