"""The local Minecraft server for development and tests: flying-squid started from the shipped launcher
(offline mode, a flat world in memory)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator

from agenthub.protocols.maicraft.mcp_link import SERVER_DIR

LAUNCHER = SERVER_DIR / "squid.mjs"


def node_modules_ready() -> bool:
    return (SERVER_DIR / "node_modules" / "flying-squid").is_dir() and (
        SERVER_DIR / "node_modules" / "mineflayer"
    ).is_dir()


@contextlib.asynccontextmanager
async def local_server(
    port: int, *, host: str = "127.0.0.1", version: str = "1.20.2", gamemode: str = "creative"
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Starts flying-squid and waits until it listens; stops it on exit."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node.js (node) is needed for the local Minecraft server")
    if not node_modules_ready():
        raise RuntimeError(f"run `npm ci` in {SERVER_DIR} first (scripts/bootstrap does it)")
    process = await asyncio.create_subprocess_exec(
        node,
        str(LAUNCHER),
        "--port", str(port), "--host", host, "--version", version, "--gamemode", gamemode,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            while b"ready" not in (line := await process.stdout.readline()):
                if not line:
                    raise RuntimeError("flying-squid stopped while starting")
        drain = asyncio.create_task(_drain(process.stdout))
        yield process
        drain.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass
