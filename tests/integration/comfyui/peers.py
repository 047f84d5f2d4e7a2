"""Agents' HTTP endpoints as tests need them, on real sockets in the test's event loop: one that answers at
once, one that drips its answer a byte at a time and never finishes, and a stand-in for the original desktop
agent (which runs the whole task inside the push request)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> Request:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, path, headers, body)


async def answer(writer: asyncio.StreamWriter, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    writer.write(
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        "Connection: close\r\n\r\n".encode()
        + data
    )
    await writer.drain()


class Peer:
    """A tiny HTTP/1.1 server: every connection's first request goes to the handler."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.url = ""
        self.requests: list[Request] = []
        self.received = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Peer:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            request = await read_request(reader)
            self.requests.append(request)
            self.received.set()
            await self.handler(request, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._connections.discard(task)


def healthy() -> Peer:
    """Takes every push at once, as our SDK agent does."""

    async def take(request: Request, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer(writer, 202, {"accepted": True, "taskId": request.json()["taskId"]})

    return Peer(take)


@dataclass
class Drip:
    """Answers 200 with a body it sends one byte at a time, forever; `cut` is set when the caller hangs up."""

    every: float = 0.2
    cut: asyncio.Event = field(default_factory=asyncio.Event)
    peer: Peer = field(init=False)

    def __post_init__(self) -> None:
        self.peer = Peer(self._drip)

    async def _drip(
        self, _request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")

        async def drip() -> None:
            while True:
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(self.every)

        dripping = asyncio.create_task(drip())
        try:
            await reader.read()  # b"" once the caller closes the connection
        finally:
            dripping.cancel()
            await asyncio.gather(dripping, return_exceptions=True)
            self.cut.set()


class OriginalAgent:
    """Behaves as the original desktop agent does with a push (see the upstream facts): checks the body's
    snake_case keys, posts `submit`, verifies the token, posts `verify`, downloads the manifest from
    `manifest_url`, posts `manifest`, works until `release` is set, posts complete, and only then answers
    the push 200 `{"status": "accepted", "task_id"}`; 409 busy while a task runs. Every call's answer must be
    a 2xx with JSON, or the task fails."""

    def __init__(self, platform_url: str, agent_id: str) -> None:
        self.platform_url = platform_url
        self.agent_id = agent_id
        self.peer = Peer(self._push)
        self.pushes: list[dict[str, Any]] = []
        self.working = asyncio.Event()
        self.release = asyncio.Event()
        self.answered = asyncio.Event()
        self.manifest: dict[str, Any] | None = None
        self.busy = False
        self.failure: str | None = None  # set: the task fails with this message (posted as failed, then 400)

    async def _push(
        self, request: Request, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        body = request.json()
        self.pushes.append(body)
        if not all(body.get(name) for name in ("task_id", "token", "manifest_url")):
            await answer(writer, 400, {"detail": "task_id, token and manifest_url are required"})
            return
        if self.busy:
            await answer(writer, 409, {"detail": "busy"})
            return
        self.busy = True
        try:
            await self._run(body)
        except (httpx.HTTPError, ValueError, RuntimeError) as exc:
            await answer(writer, 400, {"detail": str(exc)})
        else:
            await answer(writer, 200, {"status": "accepted", "task_id": body["task_id"]})
        finally:
            self.busy = False
            self.answered.set()

    async def _run(self, task: dict[str, Any]) -> None:
        token, task_id = task["token"], task["task_id"]
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=self.platform_url, timeout=20) as http:

            async def call(method: str, url: str, **kwargs: Any) -> Any:
                response = await http.request(method, url, **kwargs)
                response.raise_for_status()
                return response.json()

            async def event(stage: str, message: str) -> None:
                await call(
                    "POST",
                    f"/api/agent/tasks/{task_id}/events",
                    json={"level": "info", "stage": stage, "message": message},
                    headers=auth,
                )

            await event("submit", "task started")
            await call(
                "POST",
                "/api/agent/auth/verify",
                json={"token": token, "agent_id": self.agent_id, "task_id": task_id, "nonce": task["nonce"]},
            )
            await event("verify", "token verified")
            self.manifest = await call("GET", task["manifest_url"], headers={**auth, "x-task-token": token})
            await event("manifest", "manifest fetched")
            self.working.set()
            await self.release.wait()
            if self.failure is not None:
                await call(
                    "POST",
                    f"/api/agent/tasks/{task_id}/failed",
                    json={
                        "error_code": "DOWNLOAD_FAILED",
                        "message": self.failure,
                        "failed_items": {"models": ["x.safetensors"], "plugins": [], "workflows": []},
                    },
                    headers=auth,
                )
                raise RuntimeError(self.failure)
            await call(
                "POST",
                f"/api/agent/tasks/{task_id}/complete",
                json={"summary": "ok", "failed_items": {"models": [], "plugins": [], "workflows": []}},
                headers=auth,
            )
