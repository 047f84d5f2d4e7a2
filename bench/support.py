"""Shared bench plumbing: a real `agenthub serve` in its own process, percentiles, and median-of-runs."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def agenthub_server(
    database_url: str, *, protocols: str, port_env: str, ready_path: str = "/health"
) -> Iterator[str]:
    """Starts `agenthub serve` (uvloop) in a child process: the load generator gets its own CPU time."""
    with agenthub_process(database_url, protocols=protocols, port_env=port_env, ready_path=ready_path) as (
        url,
        _process,
    ):
        yield url


def cpu_seconds(pid: int, *, children: bool = True) -> float:
    """CPU time (user + system) a process (and its children, unless told not to) used so far: a cost per
    job that contention from other processes on a shared machine inflates far less than wall-clock
    throughput."""
    process = psutil.Process(pid)
    total = 0.0
    for p in (process, *(process.children(recursive=True) if children else ())):
        with contextlib.suppress(psutil.Error):
            times = p.cpu_times()
            total += times.user + times.system
    return total


def database_cpu(database: str) -> dict[int, float]:
    """CPU time so far of each local PostgreSQL backend serving this database (by pid; its process title
    names the database): what the database's side of the work costs, when it runs on this machine."""
    used: dict[int, float] = {}
    for p in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            title = " ".join(p.info["cmdline"] or ())
            if p.info["name"] == "postgres" and f" {database} " in f" {title} ":
                times = p.cpu_times()
                used[p.pid] = times.user + times.system
    return used


def database_cpu_since(database: str, before: dict[int, float]) -> float:
    """CPU time the backends of this database used since `before` (database_cpu), new backends included."""
    return sum(total - before.get(pid, 0.0) for pid, total in database_cpu(database).items())


@contextmanager
def agenthub_process(
    database_url: str,
    *,
    protocols: str,
    port_env: str,
    extra_env: dict[str, str] | None = None,
    ready_path: str = "/health",
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {
        **os.environ,
        "AGENTHUB_DATABASE_URL": database_url,
        "AGENTHUB_PROTOCOLS": protocols,
        port_env: str(port),
        "AGENTHUB_LOG_LEVEL": "warning",
        "AGENTHUB_SUPER_USERNAME": "root",
        "AGENTHUB_SUPER_PASSWORD": "rootpass123",
        "AGENTHUB_JWT_SECRET": "bench-secret-" + "x" * 32,
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "agenthub.cli.main", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + ready_path, timeout=1)
                break
            except httpx.TransportError as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "server did not start: " + (process.stderr.read() or b"").decode()[-2000:]
                    ) from exc
                time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    """Median with min-max, the way the figures are reported."""
    return f"{statistics.median(values):,.1f} ({min(values):,.1f}-{max(values):,.1f})"
