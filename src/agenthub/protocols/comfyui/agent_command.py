"""`agenthub agent comfyui`: runs the ComfyUI agent (seed 003) against a platform."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path

from agenthub.sdk.comfyui import AgentConfig, ComfyuiAgent

HELP = "run a ComfyUI agent: takes pushed tasks, syncs a ComfyUI directory to its manifest, sends heartbeats"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent-id", required=True, help="the id the operator registered this agent under")
    parser.add_argument("--platform", default="http://127.0.0.1:8099", help="the platform's base URL")
    parser.add_argument("--comfy-root", type=Path, default=Path("./ComfyUI"), help="the ComfyUI directory")
    parser.add_argument("--host", default="127.0.0.1", help="interface for pushed tasks")
    parser.add_argument("--port", type=int, default=8190, help="port for pushed tasks (POST /tasks)")
    parser.add_argument(
        "--token",
        default=os.environ.get("AGENTHUB_COMFYUI_AGENT_TOKEN"),
        help="agent token for heartbeats and alerts (or AGENTHUB_COMFYUI_AGENT_TOKEN)",
    )
    parser.add_argument("--heartbeat", type=float, default=30.0, help="seconds between heartbeats")
    parser.add_argument(
        "--disk-alert", type=float, default=0.9, help="disk usage fraction that raises disk_low"
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = AgentConfig(
        agent_id=args.agent_id,
        platform_url=args.platform,
        comfy_root=args.comfy_root,
        agent_token=args.token,
        host=args.host,
        port=args.port,
        heartbeat_interval=args.heartbeat,
        disk_alert_threshold=args.disk_alert,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        async with ComfyuiAgent(config) as agent:
            print(f"agenthub: comfyui agent {config.agent_id} takes tasks at {agent.url}/tasks", flush=True)
            await stop.wait()

    try:
        asyncio.run(main())
    except OSError as exc:
        print(f"agenthub: {exc}")
        return 2
    return 0
