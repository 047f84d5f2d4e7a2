"""agenthub next to Celery on the same machine, in the same run (issue 10).

Alternates, round by round: agenthub (`bench.oas_jobs`: 16 HTTP agents poll, start and complete the jobs)
and Celery + Redis (results on, prefork pool, concurrency = the machine's cores, a no-op task), each with
the same number of jobs, then prints both and the ratio agenthub/Celery (median and min-max over the rounds).

Celery is timed from the first task sent to the last result received, with the worker already up; agenthub
from the first poll to the last complete, with the jobs already queued. Redis: 127.0.0.1:6379, database 13
(flushed before and after). Needs the bench extra: `pip install -e .[bench]`.

    .venv/bin/python -m bench.peers --backend sqlite --jobs 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from bench.oas_jobs import drop_database, fresh_database, run_once
from bench.support import summary

REDIS_URL = "redis://127.0.0.1:6379/13"


@contextmanager
def celery_worker(concurrency: int) -> Iterator[None]:
    env = {**os.environ, "BENCH_CELERY_REDIS": REDIS_URL}
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bench.celery_app",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "warning",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from bench.celery_app import app

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start: " + (worker.stderr.read() or b"").decode())
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def celery_round(jobs: int, concurrency: int) -> float:
    os.environ["BENCH_CELERY_REDIS"] = REDIS_URL
    from celery.result import ResultSet

    from bench.celery_app import noop

    with celery_worker(concurrency):
        t0 = time.perf_counter()
        results = ResultSet([noop.delay(i) for i in range(jobs)])
        # One native join on the Redis backend: the client waits on the results, it does not poll each.
        results.get(timeout=300)
        elapsed = time.perf_counter() - t0
        results.forget()
    return jobs / elapsed


def flush() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(
        f"peers: {args.jobs} jobs per round, {args.rounds} rounds, {cores} cores; "
        f"agenthub ({args.backend}, {args.agents} HTTP agents) "
        f"vs Celery + Redis (results on, prefork x{cores})",
        flush=True,
    )
    ours: list[float] = []
    theirs: list[float] = []
    flush()
    try:
        for i in range(args.rounds):
            url = await fresh_database(args.backend, f"agenthub_bench_peers_{os.getpid()}_{i}")
            try:
                figures = await run_once(url, agents=args.agents, jobs_to_do=args.jobs, backlog=0)
            finally:
                await drop_database(url)
            ours.append(figures["jobs_per_s"])
            theirs.append(await asyncio.to_thread(celery_round, args.jobs, cores))
            print(
                f"  round {i + 1}: agenthub {ours[-1]:,.1f} jobs/s, celery {theirs[-1]:,.1f} jobs/s",
                flush=True,
            )
    finally:
        flush()
    ratios = [a / c for a, c in zip(ours, theirs, strict=True)]
    print(f"  agenthub jobs/s {summary(ours)}")
    print(f"  celery   jobs/s {summary(theirs)}")
    print(f"  ratio agenthub/celery {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    asyncio.run(main())
