"""Benchmark: many connected devices on one devices server process (127.0.0.1 only, bounded in time).

Prints dispatch latency (HTTP dispatch call -> new_task received by the device) p50/p99, tasks/s (dispatched
and completed), and the server's memory per connected device (RSS delta / devices). The server runs in its
own process (`agenthub serve`, SQLite) and the devices in several client processes, so the figures are the
server's, not the clients'.

    .venv/bin/python bench/devices_dispatch.py --devices 1000 --tasks 2000
    .venv/bin/python bench/devices_dispatch.py --devices 1000 --tasks 5000 --rate 500   # open loop

`--rate N` sends N dispatches per second whatever the answers (an open loop, as many independent callers
would), instead of `--concurrency` calls in flight; `--profile FILE` records the server with py-spy (installed
separately) during the dispatch phase, as collapsed stacks.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp
import httpx
import psutil

from bench.support import cpu_seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clients(url: str, ids: list[str], ready: Any, stop: Any, out: Any) -> None:
    asyncio.run(_clients_async(url, ids, ready, stop, out))


async def _clients_async(url: str, ids: list[str], ready: Any, stop: Any, out: Any) -> None:
    import socketio

    received: dict[str, float] = {}
    clients = []

    async def one(device_id: str) -> None:
        client = socketio.AsyncClient(reconnection=False)
        registered = asyncio.Event()

        async def on_registered(_data: Any) -> None:
            registered.set()

        async def on_task(data: dict[str, Any]) -> None:
            received[data["task_id"]] = time.time()
            result = {"success": True, "processed_count": 1}
            await client.emit("task_result", {"task_id": data["task_id"], "result": result})

        client.on("register_success", on_registered)
        client.on("new_task", on_task)
        await client.connect(url, transports=["websocket"], wait_timeout=30)
        await client.emit("device_register", {"device_id": device_id, "device_info": {"type": "bench"}})
        await asyncio.wait_for(registered.wait(), 60)
        clients.append(client)

    for start in range(0, len(ids), 50):  # connect in small waves, as a fleet coming online would
        await asyncio.gather(*(one(d) for d in ids[start : start + 50]))
    ready.put(len(clients))
    while not stop.is_set():  # noqa: ASYNC110 - a process-wide event, not an asyncio one
        await asyncio.sleep(0.1)
    out.put(received)
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


async def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(url + "/")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("server did not start")


async def _dispatch_all(
    url: str, tasks: int, concurrency: int, rate: float | None
) -> tuple[dict[str, float], float]:
    sent: dict[str, float] = {}
    failed: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(tasks):
        queue.put_nowait(n)
    body = {"task_type": "DELIST", "data": {"product_ids": ["1"]}}
    # aiohttp, not httpx: httpx took more CPU per call than the server did per task on this 2-core machine.
    connector = aiohttp.TCPConnector(limit=max(concurrency, 256))
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url=url, connector=connector, timeout=timeout) as http:

        async def one() -> None:
            started = time.time()
            try:
                async with http.post("/api/dispatch-task", json=body) as r:
                    answer = await r.json() if r.status == 200 else {}
            except (TimeoutError, aiohttp.ClientError):
                failed.append(started)  # an overloaded server: counted, not fatal
                return
            if answer.get("success"):
                sent[answer["task_id"]] = started
            else:
                failed.append(started)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                await one()

        async def open_loop(per_second: float) -> None:
            began, calls = time.monotonic(), []
            for n in range(tasks):
                delay = began + n / per_second - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                calls.append(asyncio.create_task(one()))
            await asyncio.gather(*calls)

        began = time.monotonic()
        if rate:
            await open_loop(rate)
        else:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        while True:
            async with http.get("/") as r:
                if (await r.json())["active_tasks"] == 0:
                    break
            await asyncio.sleep(0.05)
        if failed:
            print(f"dispatch calls failed  {len(failed)}")
        return sent, time.monotonic() - began


def _cpu(server: int, devices: list[Any]) -> tuple[float, float, float]:
    """CPU seconds so far of the server, the device processes and this (dispatching) process: whether
    the figures are the server's limit or the load generator's on a shared machine."""
    return (
        cpu_seconds(server),
        sum(cpu_seconds(p.pid) for p in devices),
        cpu_seconds(os.getpid(), children=False),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16, help="dispatch calls in flight")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--rate", type=float, default=None, help="dispatches per second (open loop)")
    parser.add_argument("--timeout", type=float, default=300, help="give up after this many seconds")
    parser.add_argument("--profile", default=None, help="py-spy the server into this file (collapsed stacks)")
    args = parser.parse_args()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    workdir = tempfile.mkdtemp(prefix="agenthub-bench-")
    env = {
        **os.environ,
        "AGENTHUB_PROTOCOLS": "devices",
        "AGENTHUB_DATABASE_URL": args.database_url or f"sqlite:///{workdir}/bench.db",
        "AGENTHUB_DEVICES_PORT": str(port),
        "AGENTHUB_LOG_LEVEL": "warning",
    }
    agenthub = os.path.join(os.path.dirname(sys.executable), "agenthub")
    server = subprocess.Popen([agenthub, "serve"], env=env, stdout=subprocess.DEVNULL)
    ctx = mp.get_context("spawn")
    ready, out, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = []
    try:
        asyncio.run(_wait_http(url, 30))
        server_ps = psutil.Process(server.pid)
        rss_before = server_ps.memory_info().rss
        ids = [f"bench_{n:05d}" for n in range(args.devices)]
        chunks = [ids[i :: args.processes] for i in range(args.processes)]
        procs = [ctx.Process(target=_clients, args=(url, chunk, ready, stop, out)) for chunk in chunks]
        for p in procs:
            p.start()
        connected = sum(ready.get(timeout=args.timeout) for _ in procs)
        time.sleep(1.0)  # let the server settle before reading its memory
        rss_after = server_ps.memory_info().rss
        spy = None
        if args.profile:
            py_spy = os.path.join(os.path.dirname(sys.executable), "py-spy")
            # --gil: only the thread holding the GIL, i.e. where the interpreter's time goes.
            record = ["record", "--gil", "--nonblocking", "--format", "raw", "--output", args.profile]
            spy = subprocess.Popen(
                [py_spy, *record, "--pid", str(server.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        cpu0 = _cpu(server.pid, procs)
        sent, elapsed = asyncio.run(
            asyncio.wait_for(_dispatch_all(url, args.tasks, args.concurrency, args.rate), args.timeout)
        )
        server_cpu, devices_cpu, dispatcher_cpu = (
            b - a for a, b in zip(cpu0, _cpu(server.pid, procs), strict=True)
        )
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        stop.set()
        received: dict[str, float] = {}
        for _ in procs:
            received.update(out.get(timeout=60))
        latencies = sorted((received[t] - s) * 1000 for t, s in sent.items() if t in received)
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"devices connected      {connected}")
        print(f"tasks dispatched       {len(sent)} (delivered {len(latencies)})")
        print(f"dispatch latency p50   {p50:.1f} ms")
        print(f"dispatch latency p99   {p99:.1f} ms")
        print(f"tasks/s (end to end)   {len(sent) / elapsed:.0f}")
        print(f"server RSS             {rss_before / 2**20:.1f} MiB -> {rss_after / 2**20:.1f} MiB")
        print(f"memory per device      {(rss_after - rss_before) / max(connected, 1) / 1024:.1f} KiB")
        per_task = 1000 / max(len(sent), 1)
        print(
            f"CPU per task           server {server_cpu * per_task:.2f} ms, "
            f"devices {devices_cpu * per_task:.2f} ms, dispatcher {dispatcher_cpu * per_task:.2f} ms"
        )
    finally:
        stop.set()
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
