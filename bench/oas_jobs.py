"""End-to-end Oas job throughput through real HTTP (issue: engine, storage and the Oas agent job API).

M simulated agents each loop: poll-jobs (limit 10) -> start -> complete for every job, until the measured
number of jobs is done. Scenarios: an empty queue topped up with just the measured jobs, and the same with
100,000 further jobs waiting (scheduled for later, so they stay in the backlog without being taken).
Prints jobs/s and p50/p99 latency of poll, start and complete, and the CPU time per job of the server, the
load generator and (PostgreSQL on this machine) the database's backends; median (min-max) over the runs.

    .venv/bin/python -m bench.oas_jobs --backend sqlite --backend postgresql --runs 3
    .venv/bin/python -m bench.oas_jobs --backend postgresql --replicas 2  # two servers, one database
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import sqlalchemy as sa

from agenthub.storage import Database
from agenthub.storage.tables import jobs
from bench.support import (
    agenthub_process,
    cpu_seconds,
    database_cpu,
    database_cpu_since,
    percentile,
    summary,
)

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Timings:
    poll: list[float] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    complete: list[float] = field(default_factory=list)
    done: int = 0


async def setup(url: str, agents: int) -> tuple[int, int, list[str]]:
    async with aiohttp.ClientSession(base_url=url) as http:
        r = await http.post("/api/v1/super/auth/login", json={"username": "root", "password": "rootpass123"})
        sup = {"Authorization": "Bearer " + (await r.json())["token"]}
        expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        r = await http.post(
            "/api/v1/super/managers",
            headers=sup,
            json={"username": "bench", "password": "benchpass", "expires_at": expires},
        )
        manager_id = (await r.json())["data"]["id"]
        r = await http.post("/api/v1/manager/auth/login", json={"username": "bench", "password": "benchpass"})
        mgr = {"Authorization": "Bearer " + (await r.json())["token"]}
        r = await http.post("/api/v1/manager/users/quick-create", headers=mgr, json={})
        user_id = (await r.json())["data"]["id"]
        tokens = []
        for i in range(agents):
            r = await http.post(
                "/api/v1/agent/auth/login",
                json={"username": "bench", "password": "benchpass", "node_id": f"BENCH-NODE-{i:03d}"},
            )
            tokens.append((await r.json())["token"])
    return manager_id, user_id, tokens


async def insert_jobs(database_url: str, *, manager_id: int, user_id: int, count: int, later: bool) -> None:
    """Bulk-inserts jobs straight into the table (100,000 through HTTP would measure set-up, not leasing)."""
    now = datetime.now(UTC)
    scheduled = now + timedelta(days=365) if later else now - timedelta(seconds=1)
    db = Database(database_url)
    try:
        for start in range(0, count, 5000):
            rows = [
                {
                    "kind": "oas.task",
                    "type": "signin",
                    "status": "pending",
                    "owner_id": manager_id,
                    "subject_id": user_id,
                    "payload": {"user_id": user_id, "source": "bench"},
                    "priority": 50,
                    "scheduled_at": scheduled,
                    "attempts": 0,
                    "max_attempts": 3,
                    "lease_epoch": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for _ in range(start, min(count, start + 5000))
            ]
            async with db.write() as conn:
                await conn.execute(sa.insert(jobs), rows)
    finally:
        await db.dispose()


async def agent(http: aiohttp.ClientSession, token: str, node: str, goal: int, timings: Timings) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while timings.done < goal:
        t0 = time.perf_counter()
        async with http.post(
            "/api/v1/agent/poll-jobs",
            headers=headers,
            json={"node_id": node, "limit": 10, "lease_seconds": 90},
        ) as r:
            body = await r.json()
        timings.poll.append(time.perf_counter() - t0)
        if not body["jobs"]:
            await asyncio.sleep(0.01)
            continue
        for job in body["jobs"]:
            t0 = time.perf_counter()
            async with http.post(
                f"/api/v1/agent/jobs/{job['ID']}/start",
                headers=headers,
                json={"node_id": node, "lease_seconds": 90},
            ) as r:
                await r.read()
            timings.start.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            async with http.post(
                f"/api/v1/agent/jobs/{job['ID']}/complete",
                headers=headers,
                json={"node_id": node, "message": "ok", "result": {"account_status": "active"}},
            ) as r:
                await r.read()
            timings.complete.append(time.perf_counter() - t0)
            timings.done += 1


async def run_once(
    database_url: str,
    *,
    agents: int,
    jobs_to_do: int,
    backlog: int,
    replicas: int = 1,
    env: dict[str, str] | None = None,
) -> dict[str, float]:
    """One run. With several replicas (PostgreSQL and Redis, as several replicas are deployed), each is a
    server process of its own on the same database; the agents are dealt out among them in turn."""
    with contextlib.ExitStack() as servers:
        started = [  # one after the other: the first migrates the fresh database
            servers.enter_context(
                agenthub_process(database_url, protocols="oas", port_env="AGENTHUB_OAS_PORT", extra_env=env)
            )
            for _ in range(replicas)
        ]
        urls = [url for url, _ in started]
        pids = [process.pid for _, process in started]
        manager_id, user_id, tokens = await setup(urls[0], agents)
        if backlog:
            await insert_jobs(database_url, manager_id=manager_id, user_id=user_id, count=backlog, later=True)
        await insert_jobs(database_url, manager_id=manager_id, user_id=user_id, count=jobs_to_do, later=False)
        timings = Timings()
        async with contextlib.AsyncExitStack() as sessions:
            https = [
                await sessions.enter_async_context(
                    aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(limit=agents * 2))
                )
                for url in urls
            ]
            me = os.getpid()  # the load generator; the servers are its children, counted apart

            def server_cpu() -> float:
                return sum(cpu_seconds(pid) for pid in pids)

            database = database_url.rsplit("/", 1)[1] if database_url.startswith("postgresql") else None
            db0 = database_cpu(database) if database else {}
            t0, cpu0, client0 = time.perf_counter(), server_cpu(), cpu_seconds(me, children=False)
            await asyncio.gather(
                *(
                    agent(https[i % replicas], tokens[i], f"BENCH-NODE-{i:03d}", jobs_to_do, timings)
                    for i in range(agents)
                )
            )
            elapsed, cpu = time.perf_counter() - t0, server_cpu() - cpu0
            client_cpu = cpu_seconds(me, children=False) - client0
            db_cpu = database_cpu_since(database, db0) if database else 0.0
    return {
        "jobs_per_s": timings.done / elapsed,
        "cpu_ms_per_job": cpu / timings.done * 1000,
        "client_cpu_ms_per_job": client_cpu / timings.done * 1000,
        "db_cpu_ms_per_job": db_cpu / timings.done * 1000,
        "poll_p50": percentile(timings.poll, 50) * 1000,
        "poll_p99": percentile(timings.poll, 99) * 1000,
        "start_p50": percentile(timings.start, 50) * 1000,
        "start_p99": percentile(timings.start, 99) * 1000,
        "complete_p50": percentile(timings.complete, 50) * 1000,
        "complete_p99": percentile(timings.complete, 99) * 1000,
    }


async def fresh_database(backend: str, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='agenthub-bench-')}/bench.db"
    conn = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        shutil.rmtree(url.removeprefix("sqlite:///").rsplit("/", 1)[0], ignore_errors=True)
        return
    conn = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="server processes on one PostgreSQL database, sharing Redis (PostgreSQL only; default 1)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15", help="for --replicas above 1")
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    if args.replicas > 1 and "sqlite" in backends:
        parser.error("--replicas: several replicas share a PostgreSQL database; pass --backend postgresql")
    env = {"AGENTHUB_REDIS_URL": args.redis_url} if args.replicas > 1 else None
    print(
        f"oas jobs: {args.agents} agents, {args.jobs} jobs per run, {args.runs} runs, "
        f"{args.replicas} server process(es); median (min-max)"
    )
    for backend in backends:
        for backlog in sorted({0, args.backlog}):
            runs = []
            for i in range(args.runs):
                # Named per process: other people's benchmarks may be running on the same server.
                url = await fresh_database(backend, f"agenthub_bench_{os.getpid()}_{i}")
                try:
                    runs.append(
                        await run_once(
                            url,
                            agents=args.agents,
                            jobs_to_do=args.jobs,
                            backlog=backlog,
                            replicas=args.replicas,
                            env=env,
                        )
                    )
                finally:
                    await drop_database(url)
            figures = {key: summary([r[key] for r in runs]) for key in runs[0]}
            print(
                f"  {backend:10} backlog={backlog:>7,}  jobs/s {figures['jobs_per_s']}  "
                f"poll p50 {figures['poll_p50']} ms p99 {figures['poll_p99']} ms  "
                f"start p50 {figures['start_p50']} ms p99 {figures['start_p99']} ms  "
                f"complete p50 {figures['complete_p50']} ms p99 {figures['complete_p99']} ms  "
                f"server CPU {figures['cpu_ms_per_job']} ms/job  "
                f"load generator CPU {figures['client_cpu_ms_per_job']} ms/job"
                + (
                    f"  PostgreSQL CPU {figures['db_cpu_ms_per_job']} ms/job"
                    if backend == "postgresql"
                    else ""
                ),
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main())
