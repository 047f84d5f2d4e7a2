"""`agenthub agent oas`: a simulated Oas2.0 agent that logs in, polls, runs jobs and reports them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import logging
import signal

from agenthub.sdk.oas.client import OasAgentClient
from agenthub.sdk.oas.poller import JobPoller
from agenthub.sdk.oas.simulate import simulated_handler

HELP = "run a simulated Oas2.0 agent (task jobs; --scan for QR-scan jobs too)"
SCAN_MODULE = "agenthub.sdk.oas.scan_poller"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", default="http://127.0.0.1:7000", help="the Oas server's URL")
    parser.add_argument("--username", required=True, help="the manager's username")
    parser.add_argument("--password", required=True, help="the manager's password")
    parser.add_argument("--node-id", default="SIM-NODE-0001", help="this agent's node id (3-128 chars)")
    parser.add_argument("--success-ratio", type=float, default=1.0, help="share of jobs that succeed (0-1)")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds each simulated task takes")
    parser.add_argument("--concurrency", type=int, default=1, help="jobs run at the same time")
    parser.add_argument("--poll-interval", type=float, default=2.0, help="seconds between empty polls")
    parser.add_argument("--lease-seconds", type=int, default=90)
    parser.add_argument("--max-jobs", type=int, default=0, help="stop after this many jobs (0: never)")
    parser.add_argument("--scan", action="store_true", help="also run simulated QR-scan jobs")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_agent(args))
    return 0


async def run_agent(args: argparse.Namespace, stop: asyncio.Event | None = None) -> int:
    """Runs until `stop` is set, SIGINT/SIGTERM, or --max-jobs jobs are done; returns the jobs handled."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    handler = simulated_handler(success_ratio=args.success_ratio, duration=args.duration)
    async with OasAgentClient(
        args.server, username=args.username, password=args.password, node_id=args.node_id, version="sim"
    ) as client:
        poller = JobPoller(
            client,
            handlers={},
            default_handler=handler,
            concurrency=args.concurrency,
            lease_seconds=args.lease_seconds,
            poll_interval=args.poll_interval,
        )
        tasks = [asyncio.create_task(poller.run(stop))]
        if args.scan:
            tasks.append(asyncio.create_task(_scan(client, stop)))
        if args.max_jobs:
            tasks.append(asyncio.create_task(_stop_after(poller, args.max_jobs, stop)))
        print(f"agenthub: oas agent {args.node_id} polling {args.server}", flush=True)
        await asyncio.gather(*tasks)
        return poller.processed


async def _scan(client: OasAgentClient, stop: asyncio.Event) -> None:
    if importlib.util.find_spec(SCAN_MODULE) is None:
        print("agenthub: scan jobs are not available in this build", flush=True)
        return
    module = importlib.import_module(SCAN_MODULE)
    print(f"agenthub: oas agent {client.node_id} also takes QR-scan jobs", flush=True)
    await module.run_simulated_scan_agent(client, stop=stop)


async def _stop_after(poller: JobPoller, count: int, stop: asyncio.Event) -> None:
    while not stop.is_set() and poller.processed < count:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.1)
    stop.set()
