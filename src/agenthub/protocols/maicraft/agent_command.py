"""`agenthub agent maicraft`: a local flying-squid Minecraft server, the bot (our MCP server) joining it,
and the MaicraftAgent API on its port - everything on one machine to watch with the web UI or curl. With
--wander the bot walks about and chats now and then, so the game state moves."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import sys

import httpx

from agenthub.protocols.maicraft.settings import MaicraftSettings
from agenthub.protocols.maicraft.squid import local_server

HELP = "start a local Minecraft server (flying-squid), the bot and the MaicraftAgent API"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mc-port", type=int, default=25565, help="port of the local Minecraft server")
    parser.add_argument("--username", default="Mai", help="the bot's name")
    parser.add_argument("--version", default="1.20.2", help="Minecraft version flying-squid speaks")
    parser.add_argument("--gamemode", choices=("creative", "survival"), default="creative")
    parser.add_argument("--api-port", type=int, default=None, help="default: AGENTHUB_MAICRAFT_PORT or 20914")
    parser.add_argument("--wander", action="store_true", help="walk about and chat every few seconds")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))
    return 0


async def _run(args: argparse.Namespace) -> None:
    api_port = args.api_port or MaicraftSettings().port
    env = {
        **os.environ,
        "AGENTHUB_PROTOCOLS": "maicraft",
        "AGENTHUB_MAICRAFT_PORT": str(api_port),
        "AGENTHUB_MAICRAFT_MC_HOST": "127.0.0.1",
        "AGENTHUB_MAICRAFT_MC_PORT": str(args.mc_port),
        "AGENTHUB_MAICRAFT_MC_USERNAME": args.username,
        "AGENTHUB_MAICRAFT_MC_VERSION": args.version,
    }
    async with local_server(args.mc_port, version=args.version, gamemode=args.gamemode):
        print(
            f"maicraft: flying-squid on 127.0.0.1:{args.mc_port} (offline mode, {args.gamemode})", flush=True
        )
        print(f"maicraft: API on http://127.0.0.1:{api_port} (bot {args.username})", flush=True)
        # The API is `agenthub serve` with only this protocol selected, in a child process of its own.
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "agenthub.cli.main", "serve", env=env
        )
        wander = asyncio.create_task(_wander(f"http://127.0.0.1:{api_port}")) if args.wander else None
        try:
            await server.wait()
        finally:
            if wander is not None:
                wander.cancel()
                await asyncio.gather(wander, return_exceptions=True)
            if server.returncode is None:
                server.terminate()
                await server.wait()


async def _wander(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while True:
            await asyncio.sleep(5)
            try:
                player = (await client.get("/api/environment/player")).json()
                if not player.get("success"):
                    continue
                p = player["data"]["position"]
                target = {"x": p["x"] + random.uniform(-6, 6), "z": p["z"] + random.uniform(-6, 6)}
                await client.post("/api/mcp/tools/call", json={"tool_name": "move", "arguments": target})
                if random.random() < 0.3:
                    await client.post(
                        "/api/mcp/tools/call",
                        json={"tool_name": "chat", "arguments": {"message": "你好, 我在散步"}},
                    )
            except httpx.HTTPError:
                continue
