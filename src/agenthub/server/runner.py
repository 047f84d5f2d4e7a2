"""Runs every selected protocol on its own port in one process and one event loop, with the engine's
background loops beside them, and stops them all together on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import AsyncIterator, Iterator, Sequence
from types import TracebackType
from typing import Any

import uvicorn

from agenthub.core.clock import Clock
from agenthub.protocols.registry import available
from agenthub.server import log_redaction, logs
from agenthub.server.loops import Loop, LoopGroup
from agenthub.server.metrics import HttpMetrics
from agenthub.server.protocol import ProtocolSpec
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from agenthub.server.startup import open_runtime

AnySpec = ProtocolSpec[Any, Any]

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the runner (several servers share one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Listeners:
    """The protocol apps, each listening on its port (0: an ephemeral port, as tests use)."""

    def __init__(
        self,
        runtime: Runtime,
        specs: Sequence[AnySpec],
        *,
        host: str,
        ports: dict[str, int] | None = None,
    ) -> None:
        self._runtime = runtime
        self._specs = specs
        self._host = host
        self._ports = ports or {}
        self._servers: list[_Server] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.urls: dict[str, str] = {}

    async def __aenter__(self) -> Listeners:
        try:
            for spec in self._specs:
                await self._start(spec)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _start(self, spec: AnySpec) -> None:
        port = self._ports.get(spec.name, spec.settings_of(self._runtime).port)
        app = spec.create_app(spec.state_of(self._runtime))
        config = uvicorn.Config(
            HttpMetrics(app, self._runtime.metrics, protocol=spec.name),
            host=self._host,
            port=port,
            lifespan="off",
            access_log=False,
            log_level=self._runtime.settings.server.log_level,
            timeout_graceful_shutdown=3,
            ws_ping_interval=None,
        )
        log_redaction.install()  # after uvicorn.Config, which (re)configures its loggers
        logs.adopt_uvicorn()  # and back to the format `agenthub serve` chose, if it chose one
        try:
            sock = listen_socket(self._host, port)
        except OSError as exc:
            raise OSError(f"{spec.name}: cannot listen on {self._host}:{port}: {exc.strerror}") from exc
        server = _Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name=f"listener-{spec.name}")
        self._servers.append(server)
        self._tasks.append(task)
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError(f"{spec.name} listener stopped while starting")
            await asyncio.sleep(0.005)
        bound_port = sock.getsockname()[1]
        self.urls[spec.name] = f"http://{self._host}:{bound_port}"

    async def wait_any_stopped(self) -> None:
        await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._servers, self._tasks = [], []


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket created with an explicit IPPROTO_TCP: asyncio only sets TCP_NODELAY on
    connections whose socket says so, and without it every keep-alive response written in two parts
    waits ~40 ms for the client's delayed ACK (Nagle)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def engine_loops(runtime: Runtime) -> list[Loop]:
    settings = runtime.settings.engine
    return [
        Loop("lease-reaper", settings.reaper_interval_seconds, runtime.engine.expire_due),
        Loop("presence", settings.presence_interval_seconds, runtime.engine.mark_silent_nodes_offline),
    ]


def selected_specs(settings: Settings) -> list[AnySpec]:
    specs = available()
    return [specs[name] for name in settings.server.selected_protocols(tuple(specs))]


@contextlib.asynccontextmanager
async def started(runtime: Runtime, specs: Sequence[AnySpec]) -> AsyncIterator[None]:
    """Builds each protocol's state from its spec (once per runtime) and closes them in reverse order."""
    done: list[AnySpec] = []
    runtime.states.running = tuple(specs)
    try:
        for spec in specs:
            await spec.start(runtime)
            done.append(spec)
        yield
    finally:
        for spec in reversed(done):
            await spec.stop(runtime)


@contextlib.asynccontextmanager
async def running(
    runtime: Runtime, specs: Sequence[AnySpec], *, host: str, ports: dict[str, int] | None = None
) -> AsyncIterator[Listeners]:
    """Everything a served runtime runs: protocol states, background loops and listeners."""
    async with started(runtime, specs):
        loops = engine_loops(runtime) + [
            loop for spec in specs for loop in spec.loops(spec.state_of(runtime))
        ]
        async with LoopGroup(loops), Listeners(runtime, specs, host=host, ports=ports) as listeners:
            yield listeners


async def serve(settings: Settings, *, clock: Clock | None = None, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    specs = selected_specs(settings)
    async with (
        open_runtime(settings, clock=clock) as runtime,
        running(runtime, specs, host=settings.server.host) as listeners,
    ):
        # Everything built at start lives as long as the process: moved out of the garbage collector's
        # sight, so a full collection no longer walks it. Without this the first full collection landed in
        # the first burst of requests and stalled them ~130 ms (bench.oas_jobs: poll p99 12 ms instead of
        # 140 ms on SQLite), and every later one cost as much.
        gc.collect()
        gc.freeze()
        for name, url in listeners.urls.items():
            log.info("%s listening on %s", name, url)
            print(f"agenthub: {name} listening on {url}", flush=True)
        waiter = asyncio.create_task(listeners.wait_any_stopped())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
        print("agenthub: stopping", flush=True)
