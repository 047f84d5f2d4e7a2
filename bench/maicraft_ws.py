"""Benchmark: MaicraftAgent API WebSocket fan-out and the cost of polling the game (127.0.0.1 only).

1. Fan-out: N subscribers on /ws/tasks and /ws/token-usage of an `agenthub serve` process (SQLite, no MCP
   server); one client changes the to-do list (or records token usage) and every other subscriber's push
   is timed from the change's send: p50/p99 delivery delay over all deliveries.
2. Poll cost (needs Node and the npm packages): a local flying-squid, our MCP server and one bot; the
   time of one poll round (game state, player status with inventory, players, entities, recent events) and
   of the block-cube query around the player (13^3 blocks), as agenthub's poller does them.

    .venv/bin/python bench/maicraft_ws.py --subscribers 500 --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.support import agenthub_server, free_port, percentile


async def _subscriber(url: str, path: str, subscribe: dict[str, Any]) -> Any:
    ws = await websockets.connect(url.replace("http://", "ws://") + path, max_size=2**24, open_timeout=60)
    await ws.recv()  # welcome
    await ws.send(json.dumps(subscribe))
    return ws


async def _collect(ws: Any, kind: str, count: int, out: list[float], sent: dict[str, float]) -> None:
    seen = 0
    while seen < count:
        message = json.loads(await ws.recv())
        if message.get("type") != kind:
            continue
        tag = _tag(message)
        if tag in sent:
            out.append(time.perf_counter() - sent[tag])
            seen += 1


def _tag(message: dict[str, Any]) -> str:
    data = message.get("data") or {}
    if "tasks" in data:
        return str(data["tasks"][-1]["details"]) if data["tasks"] else ""
    return str(data.get("model_name", ""))


async def fan_out(url: str, subscribers: int, rounds: int) -> None:
    for path, kind, subscribe in (
        ("/ws/tasks", "tasks_update", {"type": "subscribe", "update_interval": 5000}),
        (
            "/ws/token-usage",
            "token_usage_update",
            {"type": "subscribe", "update_interval": 0, "model_filter": None},
        ),
    ):
        clients = []
        for start in range(0, subscribers, 100):  # connect in batches: the accept backlog is finite
            clients += await asyncio.gather(
                *(_subscriber(url, path, subscribe) for _ in range(min(100, subscribers - start)))
            )
        await asyncio.sleep(1.0)  # acks and the first tasks_update arrive; collectors start after
        for ws in clients:
            while True:
                try:
                    await asyncio.wait_for(ws.recv(), 0.001)
                except TimeoutError:
                    break
        sender = await _subscriber(url, "/ws/tasks", {"type": "get_tasks"})
        delays: list[float] = []
        sent: dict[str, float] = {}
        collectors = [asyncio.create_task(_collect(ws, kind, rounds, delays, sent)) for ws in clients]
        started = time.perf_counter()
        async with httpx.AsyncClient(base_url=url) as http:
            for n in range(rounds):
                tag = f"bench-{kind}-{n}"
                sent[tag] = time.perf_counter()
                if kind == "tasks_update":
                    await sender.send(
                        json.dumps({"type": "add_task", "details": tag, "done_criteria": "none"})
                    )
                else:
                    await http.post(
                        "/api/token-usage/record",
                        json={"model_name": tag, "prompt_tokens": 100, "completion_tokens": 10},
                    )
                await asyncio.sleep(0.2)
        await asyncio.wait_for(asyncio.gather(*collectors), timeout=120)
        elapsed = time.perf_counter() - started
        ms = [d * 1000 for d in delays]
        print(
            f"{path}: {subscribers} subscribers x {rounds} changes = {len(ms)} deliveries "
            f"in {elapsed:.1f} s; delay p50 {percentile(ms, 50):.1f} ms, "
            f"p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms",
            flush=True,
        )
        await asyncio.gather(*(ws.close() for ws in [*clients, sender]))


async def poll_cost(polls: int) -> None:
    from agenthub.protocols.maicraft.game import BotGame
    from agenthub.protocols.maicraft.mcp_link import McpLink, shipped_command
    from agenthub.protocols.maicraft.squid import local_server, node_modules_ready

    if not node_modules_ready():
        print("poll cost: skipped (run scripts/bootstrap to install the MCP server's npm packages)")
        return
    port = free_port()
    async with local_server(port):
        link = McpLink(
            shipped_command(host="127.0.0.1", port=port, username="BenchMai", version=None),
            call_timeout=30,
            restart_max=5,
        )
        runner = asyncio.create_task(link.run_once())
        game = BotGame(link, area_radius=6, area_interval=1e9, entity_range=64)
        async with asyncio.timeout(60):
            while game.error is not None:
                await game.poll()
                await asyncio.sleep(0.1)
        rounds = []
        for _ in range(polls):
            started = time.perf_counter()
            await game.poll()
            rounds.append((time.perf_counter() - started) * 1000)
        areas = []
        for _ in range(max(3, polls // 5)):
            started = time.perf_counter()
            await game._poll_area()
            areas.append((time.perf_counter() - started) * 1000)
        print(
            f"poll round (5 MCP calls): median {statistics.median(rounds):.1f} ms, "
            f"p99 {percentile(rounds, 99):.1f} ms over {polls}; "
            "block cube 13^3 (query_area_blocks + caches): "
            f"median {statistics.median(areas):.1f} ms; {len(game.blocks.blocks)} positions cached",
            flush=True,
        )
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--polls", type=int, default=50)
    parser.add_argument("--skip-poll", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        import os

        os.environ["AGENTHUB_MAICRAFT_MCP_ENABLED"] = "false"
        try:
            with agenthub_server(db, protocols="maicraft", port_env="AGENTHUB_MAICRAFT_PORT") as url:
                asyncio.run(fan_out(url, args.subscribers, args.rounds))
        finally:
            os.environ.pop("AGENTHUB_MAICRAFT_MCP_ENABLED", None)
    if not args.skip_poll:
        asyncio.run(poll_cost(args.polls))


if __name__ == "__main__":
    main()
