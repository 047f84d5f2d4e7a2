"""The MCP server a bot's game state comes from: started as a subprocess and spoken to with the Python
`mcp` client over stdio; restarted with backoff whenever it dies or stops answering. Its stderr lines go
to the protocol's log ring (module `MCPServer`)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from mcp import ClientSession, McpError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, Tool

from agenthub.protocols.maicraft.errors import MCP_NOT_CONNECTED, McpUnavailable
from agenthub.protocols.maicraft.logring import logger

SERVER_DIR = Path(__file__).parent / "mcp_server"
SERVER_SCRIPT = SERVER_DIR / "server.mjs"

log = logger("MCPClient")
server_log = logger("MCPServer")


@dataclass(frozen=True, slots=True)
class McpCommand:
    command: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        return shlex.join([self.command, *self.args])


def shipped_command(*, host: str, port: int, username: str, version: str | None) -> McpCommand:
    args = [str(SERVER_SCRIPT), "--host", host, "--port", str(port), "--username", username]
    if version:
        args += ["--version", version]
    return McpCommand("node", args)


def command_line(line: str) -> McpCommand:
    parts = shlex.split(line)
    if not parts:
        raise ValueError("empty MCP command")
    return McpCommand(parts[0], parts[1:])


def config_file(path: str) -> McpCommand:
    """The first server of a JSON file shaped like the original's mcp_servers.json."""
    servers = json.loads(Path(path).read_text(encoding="utf-8")).get("mcpServers") or {}
    if not servers:
        raise ValueError(f"{path}: no mcpServers")
    first = next(iter(servers.values()))
    return McpCommand(first["command"], list(first.get("args", [])), dict(first.get("env", {})))


class McpLink:
    """One MCP server process and its client session, kept alive by `run_once` (a supervised loop step)."""

    def __init__(self, command: McpCommand, *, call_timeout: float, restart_max: float) -> None:
        self.command = command
        self._call_timeout = timedelta(seconds=call_timeout)
        self._restart_max = restart_max
        self._session: ClientSession | None = None
        self._broken = asyncio.Event()
        self._backoff = 1.0
        self.restarts = 0
        self.stopped = asyncio.Event()  # set each time the server process ended (for waiting, e.g. in tests)
        self.last_error: str | None = None
        self.connected = asyncio.Event()

    @property
    def is_connected(self) -> bool:
        return self._session is not None

    async def run_once(self) -> None:
        """Starts the server, serves calls until it dies, then waits out the backoff before returning."""
        read_fd, write_fd = os.pipe()
        errlog = os.fdopen(write_fd, "w")
        reader = asyncio.create_task(_forward_stderr(read_fd))
        params = StdioServerParameters(
            command=self.command.command, args=self.command.args, env=self.command.env or None
        )
        try:
            log.info("starting MCP server: %s", self.command.describe())
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as s:
                await asyncio.wait_for(s.initialize(), timeout=self._call_timeout.total_seconds())
                self._broken.clear()
                self._session = s
                self.connected.set()
                self._backoff = 1.0
                self.last_error = None
                log.info("MCP客户端已连接")
                await self._broken.wait()
        except Exception as exc:  # anyio wraps failures in exception groups (a cancellation stays out)
            error = _describe(exc)
            # The same failure again (e.g. no Node installed) is not worth a warning every backoff.
            log.log(
                logging.DEBUG if error == self.last_error else logging.WARNING, "MCP server failed: %s", error
            )
            self.last_error = error
        finally:
            self._session = None
            self.connected.clear()
            errlog.close()
            reader.cancel()
            # Not `suppress(CancelledError)`: that would also swallow this task's own cancellation.
            await asyncio.gather(reader, return_exceptions=True)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError
        self.restarts += 1
        self.stopped.set()
        log.info("MCP server stopped; restarting in %.1f s", self._backoff)
        await asyncio.sleep(self._backoff)
        self._backoff = min(self._backoff * 2, self._restart_max)

    def _session_or_fail(self) -> ClientSession:
        if self._session is None:
            raise McpUnavailable(
                MCP_NOT_CONNECTED if self.last_error is None else f"{MCP_NOT_CONNECTED} ({self.last_error})"
            )
        return self._session

    async def list_tools(self) -> list[Tool]:
        session = self._session_or_fail()
        try:
            return (await asyncio.wait_for(session.list_tools(), self._call_timeout.total_seconds())).tools
        except (McpError, OSError, TimeoutError, Exception) as exc:
            raise self._lost(exc) from exc

    async def call(
        self, name: str, arguments: dict[str, Any], *, timeout: float | None = None
    ) -> CallToolResult:
        """Calls a tool; a call that outlives its timeout means a hung server, which is restarted."""
        session = self._session_or_fail()
        limit = self._call_timeout if timeout is None else timedelta(seconds=timeout)
        try:
            return await session.call_tool(name, arguments, read_timeout_seconds=limit)
        except McpError as exc:
            if (
                exc.error.code == -32602 or "Unknown tool" in exc.error.message
            ):  # a bad call, not a dead server
                raise
            raise self._lost(exc) from exc
        except Exception as exc:
            raise self._lost(exc) from exc

    def _lost(self, exc: BaseException) -> McpUnavailable:
        self.last_error = _describe(exc)
        log.warning("MCP call failed, restarting the server: %s", self.last_error)
        self._broken.set()
        return McpUnavailable(f"{MCP_NOT_CONNECTED} ({self.last_error})")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _forward_stderr(fd: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    pipe = os.fdopen(fd, "rb")
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        while line := await reader.readline():
            server_log.info("%s", line.decode("utf-8", "replace").rstrip())
    finally:
        transport.close()
