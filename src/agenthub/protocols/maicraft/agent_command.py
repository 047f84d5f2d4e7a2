"""`agenthub agent maicraft`: a local flying-squid Minecraft server, the bot (our MCP server) joining it,
and the MaicraftAgent API on its port - everything on one machine to watch with the web UI or curl. With
--wander the bot walks about and chats now and then, so the game state moves."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random

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
    from agenthub.protocols.maicraft.settings import MaicraftSettings
    from agenthub.protocols.maicraft.squid import local_server
    from agenthub.server.runner import serve
    from agenthub.server.settings import ServerSettings, Settings

    maicraft = MaicraftSettings(mc_host="127.0.0.1", mc_port=args.mc_port, mc_username=args.username,
                                mc_version=args.version)  # fmt: skip
    if args.api_port is not None:
        maicraft.port = args.api_port
    settings = Settings(server=ServerSettings(protocols="maicraft"), protocols={"maicraft": maicraft})
    async with local_server(args.mc_port, version=args.version, gamemode=args.gamemode):
        print(
            f"maicraft: flying-squid on 127.0.0.1:{args.mc_port} (offline mode, {args.gamemode})", flush=True
        )
        print(f"maicraft: API on http://127.0.0.1:{maicraft.port} (bot {args.username})", flush=True)
        tasks = [asyncio.create_task(serve(settings))]
        if args.wander:
            tasks.append(asyncio.create_task(_wander(f"http://127.0.0.1:{maicraft.port}")))
        try:
            await tasks[0]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _wander(base: str) -> None:
    import httpx

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
