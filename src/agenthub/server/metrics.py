"""Prometheus metrics of one runtime: what the engine did, how long pushes and HTTP requests took, and, read
at scrape time, how many jobs and agents there are and how busy the database is.

Every runtime has its own `Metrics` (its own `CollectorRegistry`, no module-level state), at
`runtime.metrics`; several runtimes in one process (as in tests) never mix their numbers.

Mounting `/metrics` (the console does this on its port)::

    from agenthub.server.metrics import metrics_route

    app = FastAPI(...)                          # or Starlette(routes=[...])
    app.router.routes.append(metrics_route(runtime))

or, as a whole ASGI app of its own: `metrics_app(runtime)` answers `GET /metrics` (and 404 elsewhere).

Protocols report a push to an agent with one line::

    with runtime.metrics.push_timer("comfyui"):
        response = await http.post(...)

The runner wraps every protocol app in `HttpMetrics`, labelled by protocol, method, route template and
status class. Counters count what this process saw (sum them over replicas); gauges read the shared
database and are the same on every replica.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthub.core.jobs import Change, JobQuery, JobStatus
from agenthub.core.nodes import AgentNode, NodeStatus

if TYPE_CHECKING:
    from agenthub.server.runtime import Runtime

log = logging.getLogger(__name__)

# Events that end a lease without a result: it ran out, or its holder gave it up (a dropped connection).
LEASE_LOST_EVENTS = frozenset({"timeout", "timeout_requeued"})
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"  # never the raw path: one series per URL would grow without bound
PUSH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Snapshot(Collector):
    """The gauges read from the database: `Metrics.refresh` fills them just before each scrape."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], int] = {}
        self.agents: dict[tuple[str, str], int] = {}
        self.pool: dict[str, int] = {}
        self.write_queue = 0

    def collect(self) -> Iterable[Metric]:
        jobs = GaugeMetricFamily("agenthub_jobs", "Jobs by kind and status.", labels=["kind", "status"])
        for (kind, status), n in sorted(self.jobs.items()):
            jobs.add_metric([kind, status], n)
        agents = GaugeMetricFamily(
            "agenthub_agents", "Agents (nodes) by node kind and presence.", labels=["kind", "state"]
        )
        for (kind, state), n in sorted(self.agents.items()):
            agents.add_metric([kind, state], n)
        pool = GaugeMetricFamily(
            "agenthub_db_pool_connections",
            "Database pool connections: size (configured), checked_out, idle, overflow.",
            labels=["state"],
        )
        for state, n in sorted(self.pool.items()):
            pool.add_metric([state], n)
        queue = GaugeMetricFamily(
            "agenthub_db_write_queue_depth", "Writers waiting for the SQLite write lock (0 on PostgreSQL)."
        )
        queue.add_metric([], self.write_queue)
        return [jobs, agents, pool, queue]


class Metrics:
    """One runtime's metrics. Also the engine's observer for transitions, lease losses and retries."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.transitions = Counter(
            "agenthub_job_transitions",
            "Job events recorded by the engine, by kind and event type.",
            ["kind", "event"],
            registry=self.registry,
        )
        self.lease_expiries = Counter(
            "agenthub_lease_expiries",
            "Leases that ended without a result (ran out, or given up by their holder), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.retries = Counter(
            "agenthub_job_retries",
            "Jobs sent back to the queue for another attempt (failed or lost lease), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.push_seconds = Histogram(
            "agenthub_push_latency_seconds",
            "Time to hand a job to an agent the server pushes to, by protocol.",
            ["protocol"],
            buckets=PUSH_BUCKETS,
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "agenthub_http_request_duration_seconds",
            "HTTP requests to the protocol ports, by protocol, method, route template and status class.",
            ["protocol", "method", "route", "status"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        # The histogram's children by labels: `labels()` validates and locks on every call, and every request
        # observes one.
        self._http_children: dict[tuple[str, str, str, int], Any] = {}
        self._snapshot = _Snapshot()
        self.registry.register(self._snapshot)

    # -- the engine's observer ---------------------------------------------------------------------

    def job_changed(self, change: Change) -> None:
        event = change.event
        if event is None:
            return
        kind = change.job.kind
        self.transitions.labels(kind, event.type).inc()
        if event.type in LEASE_LOST_EVENTS:
            self.lease_expiries.labels(kind).inc()
        if change.job.status is JobStatus.PENDING and event.type in ("fail", "timeout_requeued"):
            self.retries.labels(kind).inc()

    def node_seen(self, node: AgentNode) -> None:
        return None  # presence is read from the database at scrape time

    def node_gone(self, kind: str, node_id: str, *, reason: str) -> None:
        return None

    # -- what protocols and the runner report --------------------------------------------------------

    def observe_push(self, protocol: str, seconds: float) -> None:
        self.push_seconds.labels(protocol).observe(seconds)

    @contextlib.contextmanager
    def push_timer(self, protocol: str) -> Iterator[None]:
        """Times a push (successful or not) to an agent."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe_push(protocol, time.perf_counter() - started)

    def observe_http(self, protocol: str, method: str, route: str, status: int, seconds: float) -> None:
        # The method comes from the client: anything unusual is one label, not a series per made-up verb.
        method = method if method in HTTP_METHODS else "OTHER"
        key = (protocol, method, route, status // 100)
        child = self._http_children.get(key)
        if child is None:
            child = self.http_seconds.labels(protocol, method, route, f"{status // 100}xx")
            self._http_children[key] = child
        child.observe(seconds)

    # -- scraping ------------------------------------------------------------------------------------

    async def refresh(self, runtime: Runtime) -> None:
        """Reads the gauges from the database (jobs per registered kind, agents per kind) and the pool."""
        engine, snapshot = runtime.engine, self._snapshot
        jobs: dict[tuple[str, str], int] = {}
        for kind in engine.kinds():
            counts = await engine.count_by(JobQuery(kind=kind), "status")
            for status in JobStatus:  # every status, 0 included: a series that vanishes confuses rate()
                jobs[(kind, status.value)] = counts.get((status.value,), 0)
        agents: dict[tuple[str, str], int] = {}
        for (kind, node_status), n in (await engine.node_counts()).items():
            for state in NodeStatus:
                agents.setdefault((kind, state.value), 0)
            agents[(kind, node_status)] = agents.get((kind, node_status), 0) + n
        snapshot.jobs, snapshot.agents = jobs, agents
        snapshot.pool = runtime.db.pool_stats()
        snapshot.write_queue = runtime.db.write_queue_depth

    async def render(self, runtime: Runtime) -> bytes:
        await self.refresh(runtime)
        return generate_latest(self.registry)


class HttpMetrics:
    """ASGI middleware timing every HTTP request of one protocol's app. Cheap on the hot path: a clock read,
    a wrapped `send` that notes the status, one histogram observation."""

    def __init__(self, app: ASGIApp, metrics: Metrics, *, protocol: str) -> None:
        self.app = app
        self.metrics = metrics
        self.protocol = protocol

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees when the app fails before it answers

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            self.metrics.observe_http(
                self.protocol, scope["method"], route_template(scope), status, time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/tasks/{task_id}`): the router leaves the route in the
    scope, which is the same dict this middleware passed down."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def metrics_route(runtime: Runtime, path: str = "/metrics") -> Route:
    """`GET /metrics` of this runtime, as a Starlette route to add to an app's routes."""

    async def endpoint(_request: Request) -> Response:
        try:
            body = await runtime.metrics.render(runtime)
        except Exception:
            log.exception("could not read the metrics")
            return PlainTextResponse("metrics unavailable\n", status_code=503)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route(path, endpoint, methods=["GET"], name="metrics", include_in_schema=False)


def metrics_app(runtime: Runtime) -> ASGIApp:
    """A small ASGI app that answers `GET /metrics` of this runtime (404 elsewhere)."""
    from starlette.applications import Starlette

    return Starlette(routes=[metrics_route(runtime)])
