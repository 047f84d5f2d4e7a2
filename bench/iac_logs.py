"""IaC platform figures through real sockets (issue: IaC agent platform).

N scripted agents (raw C&C WebSockets, the original agent's messages) against `agenthub serve`:
- run_task latency: from the operator's POST creating a task to the `run_task` frame at the agent;
- log chunk throughput: every agent uploads chunks of its task's log at once (offset + sha256), MB/s;
- state-save latency: every agent saves state versions of its workspace at once, p50/p99.

    .venv/bin/python -m bench.iac_logs --backend sqlite --backend postgresql --agents 50
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import time

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.oas_jobs import fresh_database
from bench.support import agenthub_server, percentile

ADMIN_KEY = "bench-admin-key"
MAIN_TF = 'output "x" { value = 1 }\n'


async def setup(http: httpx.AsyncClient, agents: int) -> tuple[dict[str, str], list[str]]:
    app = (await http.post("/api/v1/admin/applications", json={"name": "bench"})).json()
    spaces = []
    for i in range(agents):
        await http.post(
            "/api/v1/admin/agents", json={"agent_id": f"bench-{i:03d}", "application_id": app["id"]}
        )
        r = await http.post(
            "/api/v1/admin/workspaces",
            json={
                "workspace_id": f"ws-bench-{i:03d}",
                "name": f"bench {i}",
                "application_id": app["id"],
                "terraform_version": "1.0.3",
                "tf_code": {"main.tf": MAIN_TF},
            },
        )
        spaces.append(r.json()["workspace_id"])
    return app, spaces


async def control(url: str, agent_id: str, headers: dict[str, str]) -> ClientConnection:
    ws = await connect(
        url.replace("http://", "ws://") + f"/api/v1/agents/control?agent_id={agent_id}",
        additional_headers=headers,
    )
    beat = {"plan_running": 0, "plan_limit": 3, "apply_running": False, "current_tasks": [], "status": "ok"}
    await ws.send(json.dumps({"type": "heartbeat", "payload": beat}))
    return ws


async def push_latency(
    admin: httpx.AsyncClient, sockets: list[ClientConnection], spaces: list[str]
) -> tuple[list[float], list[int]]:
    """One task per agent, created one after another; time until its agent holds the run_task frame."""
    latencies, task_ids = [], []
    for ws, space in zip(sockets, spaces, strict=True):
        t0 = time.perf_counter()
        r = await admin.post(f"/api/v1/admin/workspaces/{space}/tasks", json={"task_type": "apply"})
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        latencies.append(time.perf_counter() - t0)
        assert message["type"] == "run_task" and message["payload"]["task_id"] == r.json()["id"]
        task_ids.append(r.json()["id"])
    return latencies, task_ids


async def upload_logs(
    http: httpx.AsyncClient, task_id: int, headers: dict[str, str], chunks: int, size: int
) -> int:
    line = "terraform says something rather long about a resource being created.\n"
    text = (line * (size // len(line) + 1))[:size]
    data = text.encode()
    digest = hashlib.sha256(data).hexdigest()
    offset = 0
    for _ in range(chunks):
        body = {"phase": "apply", "content": text, "offset": offset, "checksum": digest}
        r = await http.post(f"/api/v1/agents/tasks/{task_id}/logs/chunk", json=body, headers=headers)
        offset = r.json()["next_offset"]
    return offset


async def save_states(
    http: httpx.AsyncClient, task_id: int, headers: dict[str, str], count: int, size: int
) -> list[float]:
    latencies = []
    for serial in range(count):
        state = json.dumps({"version": 4, "serial": serial, "outputs": {"pad": {"value": "x" * size}}})
        body = {
            "content": state,
            "checksum": hashlib.sha256(state.encode()).hexdigest(),
            "size": len(state.encode()),
        }
        t0 = time.perf_counter()
        r = await http.post(f"/api/v1/agents/tasks/{task_id}/state", json=body, headers=headers)
        latencies.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    return latencies


async def run(database_url: str, args: argparse.Namespace) -> dict[str, float]:
    os.environ["AGENTHUB_IAC_ADMIN_KEY"] = ADMIN_KEY
    with agenthub_server(database_url, protocols="iac", port_env="AGENTHUB_IAC_PORT") as url:
        limits = httpx.Limits(max_connections=args.agents * 2)
        async with (
            httpx.AsyncClient(base_url=url, headers={"X-Admin-Key": ADMIN_KEY}, timeout=60) as admin,
            httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http,
        ):
            app, spaces = await setup(admin, args.agents)
            heads = [
                {
                    "X-App-Key": app["app_key"],
                    "X-App-Secret": app["app_secret"],
                    "X-Agent-ID": f"bench-{i:03d}",
                }
                for i in range(args.agents)
            ]
            sockets = [await control(url, f"bench-{i:03d}", heads[i]) for i in range(args.agents)]
            push, task_ids = await push_latency(admin, sockets, spaces)
            t0 = time.perf_counter()
            sent = await asyncio.gather(
                *(
                    upload_logs(http, t, h, args.chunks, args.chunk_kb * 1024)
                    for t, h in zip(task_ids, heads, strict=True)
                )
            )
            log_seconds = time.perf_counter() - t0
            saves = await asyncio.gather(
                *(
                    save_states(http, t, h, args.states, args.state_kb * 1024)
                    for t, h in zip(task_ids, heads, strict=True)
                )
            )
            for ws in sockets:
                await ws.close()
    state_latencies = [s for per_agent in saves for s in per_agent]
    return {
        "push_p50": percentile(push, 50) * 1000,
        "push_p99": percentile(push, 99) * 1000,
        "log_mb_s": sum(sent) / log_seconds / 1e6,
        "state_p50": percentile(state_latencies, 50) * 1000,
        "state_p99": percentile(state_latencies, 99) * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--chunks", type=int, default=20, help="log chunks per agent")
    parser.add_argument("--chunk-kb", type=int, default=64)
    parser.add_argument("--states", type=int, default=10, help="state versions per agent")
    parser.add_argument("--state-kb", type=int, default=20)
    args = parser.parse_args()
    print(
        f"iac: {args.agents} agents; {args.chunks} x {args.chunk_kb} KiB log chunks and "
        f"{args.states} x {args.state_kb} KiB states per agent"
    )
    for backend in args.backend or ["sqlite", "postgresql"]:
        figures = await run(await fresh_database(backend, "agenthub_bench_iac"), args)
        print(
            f"  {backend:10} run_task p50 {figures['push_p50']:.1f} ms p99 {figures['push_p99']:.1f} ms  "
            f"log chunks {figures['log_mb_s']:.1f} MB/s  "
            f"state save p50 {figures['state_p50']:.1f} ms p99 {figures['state_p99']:.1f} ms",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
