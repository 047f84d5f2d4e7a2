"""`agenthub agent devices`: simulated devices for the distributed task system (seed 001)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import uuid
from typing import Any

from agenthub.sdk.devices import DeviceClient, Task

HELP = "run simulated devices that execute DELIST/COLLECT/UPLOAD tasks"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default="http://127.0.0.1:1888", help="the devices server")
    parser.add_argument("--device-id", default=None, help="device id (default: sim_<random>)")
    parser.add_argument("--device-name", default=None)
    parser.add_argument("--count", type=int, default=1, help="how many devices (ids get a -N suffix)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds each task takes")
    parser.add_argument("--steps", type=int, default=4, help="progress reports per task")
    parser.add_argument("--outcome", choices=("success", "fail", "random"), default="success")
    parser.add_argument(
        "--fail-rate", type=float, default=0.2, help="failure probability with --outcome random"
    )
    parser.add_argument("--heartbeat", type=float, default=30.0, help="seconds between heartbeats")
    parser.add_argument(
        "--device-key",
        default=os.environ.get("AGENTHUB_DEVICES_DEVICE_KEY") or None,
        help="the server's device key, when it requires one (default: $AGENTHUB_DEVICES_DEVICE_KEY)",
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))
    return 0


async def _run(args: argparse.Namespace) -> None:
    base = args.device_id or f"sim_{uuid.uuid4().hex[:8]}"
    ids = [base] if args.count == 1 else [f"{base}-{n}" for n in range(1, args.count + 1)]
    await asyncio.gather(*(_device(args, device_id) for device_id in ids))


async def _device(args: argparse.Namespace, device_id: str) -> None:
    async def work(task: Task) -> dict[str, Any]:
        print(f"{device_id}: {task.task_type} {task.task_id} started", flush=True)
        steps = max(1, args.steps)
        for step in range(1, steps + 1):
            await asyncio.sleep(args.duration / steps)
            await task.progress(round(step * 100 / steps), f"第{step}/{steps}步")
        failed = args.outcome == "fail" or (args.outcome == "random" and random.random() < args.fail_rate)
        if failed:
            raise RuntimeError("模拟失败")
        items = task.data.get("product_ids") or []
        print(f"{device_id}: {task.task_type} {task.task_id} completed", flush=True)
        return {"processed_count": len(items), "failed_count": 0, "message": "模拟完成"}

    client = DeviceClient(
        args.url,
        device_id=device_id,
        device_name=args.device_name,
        device_info={"type": "simulator", "version": "1", "app_version": "agenthub"},
        heartbeat_interval=args.heartbeat,
        device_key=args.device_key,
    )
    for task_type in ("DELIST", "COLLECT", "UPLOAD"):
        client.task(task_type)(work)
    async with client:
        print(f"{device_id}: registered with {args.url}", flush=True)
        await client.run_forever()
