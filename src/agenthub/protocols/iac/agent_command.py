"""`agenthub agent iac`: runs the IaC agent (seed 004) with real Terraform against a platform."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path

from agenthub.sdk.iac import AgentConfig, IacAgent

HELP = "run an IaC agent: keeps the C&C WebSocket, runs real terraform for pushed tasks"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent-id", required=True, help="the id the operator registered this agent under")
    parser.add_argument("--server", default="http://127.0.0.1:8080", help="the platform's base URL")
    parser.add_argument(
        "--app-key", default=os.environ.get("AGENTHUB_IAC_APP_KEY"), help="or AGENTHUB_IAC_APP_KEY"
    )
    parser.add_argument(
        "--app-secret", default=os.environ.get("AGENTHUB_IAC_APP_SECRET"), help="or AGENTHUB_IAC_APP_SECRET"
    )
    parser.add_argument(
        "--terraform",
        type=Path,
        default=None,
        help="default terraform binary (or AGENTHUB_IAC_TERRAFORM; else PATH, else the bundled 1.0.3)",
    )
    parser.add_argument(
        "--versions-dir",
        type=Path,
        default=Path(os.environ["AGENTHUB_IAC_VERSIONS_DIR"])
        if os.environ.get("AGENTHUB_IAC_VERSIONS_DIR")
        else None,
        help="folder of terraform versions: <dir>/<version>/terraform (or AGENTHUB_IAC_VERSIONS_DIR)",
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="where task directories are made")
    parser.add_argument("--plan-limit", type=int, default=3, help="plans run side by side (default 3)")
    parser.add_argument("--heartbeat", type=float, default=10.0, help="seconds between heartbeats")


def run(args: argparse.Namespace) -> int:
    if not args.app_key or not args.app_secret:
        print("agenthub: --app-key and --app-secret (or AGENTHUB_IAC_APP_KEY/SECRET) are required")
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = AgentConfig(
        server_url=args.server,
        agent_id=args.agent_id,
        app_key=args.app_key,
        app_secret=args.app_secret,
        terraform=args.terraform,
        versions_dir=args.versions_dir,
        work_dir=args.work_dir,
        plan_limit=args.plan_limit,
        heartbeat_interval=args.heartbeat,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        async with IacAgent(config) as agent:
            versions = ", ".join(await agent.versions.available()) or "none"
            print(
                f"agenthub: iac agent {config.agent_id} -> {config.server_url} (terraform: {versions})",
                flush=True,
            )
            await stop.wait()

    asyncio.run(main())
    return 0
