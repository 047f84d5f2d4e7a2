"""The console's jobs page with 100,000 jobs of three protocols in the database: how long `GET /api/jobs`
takes over real HTTP for the first page, a deep page (keyset), and filtered and searched pages. The goal is
under 300 ms each; this prints the figures (median and p99 of the repeats), it asserts nothing.

    .venv/bin/python -m bench.console_jobs --backend sqlite --backend postgresql --jobs 100000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from agenthub.storage import Database
from agenthub.storage.tables import jobs
from bench.oas_jobs import fresh_database
from bench.support import agenthub_server, percentile

KINDS = (("oas.task", "signin"), ("devices.task", "DELIST"), ("comfyui.task", "sync"))
STATUSES = ("success", "success", "success", "failed", "cancelled", "pending", "running")


async def insert_jobs(database_url: str, count: int) -> None:
    db = Database(database_url)
    now = datetime.now(UTC)
    try:
        for start in range(0, count, 5000):
            rows = []
            for i in range(start, min(count, start + 5000)):
                kind, job_type = KINDS[i % len(KINDS)]
                status = STATUSES[i % len(STATUSES)]
                at = now - timedelta(seconds=count - i)
                rows.append(
                    {
                        "kind": kind,
                        "type": job_type,
                        "status": status,
                        "payload": {"n": i},
                        "priority": 0,
                        "scheduled_at": at,
                        "attempts": 1 if status != "pending" else 0,
                        "max_attempts": 3,
                        "owner_id": 1,
                        "external_id": f"ext-{i}",
                        "leased_by": f"node-{i % 50}" if status != "pending" else None,
                        "lease_epoch": 1,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            async with db.write() as conn:
                await conn.execute(sa.insert(jobs), rows)
    finally:
        await db.dispose()


async def measure(url: str, count: int, repeats: int) -> list[tuple[str, float, float]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        login = await http.post("/api/login", json={"username": "root", "password": "rootpass123"})
        login.raise_for_status()
        pages = {
            "first page": {},
            "deep page (keyset)": {"before": count // 2},
            "status=failed": {"status": "failed"},
            "protocol=devices": {"protocol": "devices"},
            "protocol=comfyui&status=pending": {"protocol": "comfyui", "status": "pending"},
            "node=node-7": {"node": "node-7"},
            "search external id": {"q": f"ext-{count // 3}"},
            "search job id": {"q": str(count // 4)},
        }
        figures = []
        for name, params in pages.items():
            samples = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                response = await http.get("/api/jobs", params={**params, "limit": 50})
                samples.append(time.perf_counter() - t0)
                response.raise_for_status()
            figures.append((name, percentile(samples, 50) * 1000, percentile(samples, 99) * 1000))
        return figures


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"console jobs page: {args.jobs:,} jobs, {args.repeats} requests each; ms p50 / p99 (goal < 300)")
    for backend in args.backend or ["sqlite", "postgresql"]:
        database_url = await fresh_database(backend, "agenthub_bench_console")
        with agenthub_server(
            database_url, protocols="oas,console", port_env="AGENTHUB_CONSOLE_PORT", ready_path="/api/me"
        ) as url:
            await insert_jobs(database_url, args.jobs)
            for name, p50, p99 in await measure(url, args.jobs, args.repeats):
                print(f"  {backend:<10} {name:<34} {p50:7.1f} / {p99:7.1f}")


if __name__ == "__main__":
    asyncio.run(main())
