"""The agent side of seed 003: takes pushed tasks over HTTP, verifies them with the platform, syncs the
manifest, reports events, then complete or failed; sends heartbeats and raises alerts.

    async with ComfyuiAgent(AgentConfig(agent_id="gpu-1", platform_url=..., comfy_root=...)) as agent:
        await agent.serve_forever()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agenthub import __version__
from agenthub.sdk.comfyui import metrics
from agenthub.sdk.comfyui.client import PlatformClient, PlatformError
from agenthub.sdk.comfyui.gitsync import head
from agenthub.sdk.comfyui.sync import Layout, Syncer, SyncResult

log = logging.getLogger(__name__)

PUSH_FIELDS = ("taskId", "token", "nonce", "manifestId")


@dataclass(frozen=True, slots=True)
class AgentConfig:
    agent_id: str
    platform_url: str
    comfy_root: Path
    agent_token: str | None = None  # agent scope, for heartbeats and alerts; none: no heartbeats
    host: str = "127.0.0.1"
    port: int = 8190  # 0: an ephemeral port
    heartbeat_interval: float = 30.0
    disk_alert_threshold: float = 0.9  # disk usage fraction from which a disk_low alert is raised
    agent_version: str = __version__


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the host program owns the signals
        yield


class ComfyuiAgent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.platform = PlatformClient(config.platform_url)
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True)
        self.layout = Layout(config.comfy_root)
        self.url = ""
        self.results: dict[str, SyncResult] = {}
        self._current: asyncio.Task[None] | None = None
        self._server: _Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._disk_low = False

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def __aenter__(self) -> ComfyuiAgent:
        self.config.comfy_root.mkdir(parents=True, exist_ok=True)
        app = Starlette(
            routes=[Route("/tasks", self._take, methods=["POST"]), Route("/health", self._health)]
        )
        config = uvicorn.Config(app, host=self.config.host, port=self.config.port, log_level="warning")
        sock = config.bind_socket()
        self._server = _Server(config)
        serving = asyncio.create_task(self._server.serve(sockets=[sock]))
        self._tasks.append(serving)
        while not self._server.started:
            if serving.done():
                serving.result()
                raise RuntimeError("the agent's endpoint stopped while starting")
            await asyncio.sleep(0.01)
        self.url = f"http://{self.config.host}:{sock.getsockname()[1]}"
        if self.config.agent_token:
            self._tasks.append(asyncio.create_task(self._heartbeats()))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._current is not None:
            self._current.cancel()
        for task in self._tasks:
            if task is not self._tasks[0]:
                task.cancel()
        await asyncio.gather(*self._tasks, *(t for t in [self._current] if t), return_exceptions=True)
        await self.http.aclose()
        await self.platform.close()

    async def serve_forever(self) -> None:
        await asyncio.gather(*self._tasks[:1])

    @property
    def busy(self) -> bool:
        return self._current is not None and not self._current.done()

    async def idle(self) -> None:
        """Waits for the task in hand, if any, to end."""
        if self._current is not None:
            await asyncio.gather(self._current, return_exceptions=True)

    # -- pushed tasks ------------------------------------------------------------------------------------

    async def _health(self, _request: Request) -> JSONResponse:
        return JSONResponse({"agentId": self.config.agent_id, "busy": self.busy})

    async def _take(self, request: Request) -> JSONResponse:
        try:
            pushed = await request.json()
        except ValueError:
            return JSONResponse({"detail": "invalid JSON"}, status_code=400)
        if not isinstance(pushed, dict) or any(not pushed.get(name) for name in PUSH_FIELDS):
            return JSONResponse({"detail": f"needs {', '.join(PUSH_FIELDS)}"}, status_code=400)
        if self.busy:  # one sync at a time; the platform pushes again later
            return JSONResponse({"detail": "busy"}, status_code=409)
        self._current = asyncio.create_task(self.run_task(pushed))
        return JSONResponse({"accepted": True, "taskId": pushed["taskId"]}, status_code=202)

    async def run_task(self, pushed: dict[str, Any]) -> None:
        task_id, token = str(pushed["taskId"]), str(pushed["token"])
        try:
            # A pushed token is only trusted once the platform confirms it, for this agent and task.
            await self.platform.verify(
                token=token, agent_id=self.config.agent_id, task_id=task_id, nonce=str(pushed["nonce"])
            )
        except (PlatformError, httpx.HTTPError) as exc:
            log.warning("task %s refused: the platform did not verify its token (%s)", task_id, exc)
            return
        try:
            await self._sync(task_id, token, int(pushed["manifestId"]))
        except (PlatformError, httpx.HTTPError) as exc:
            log.error("task %s: the platform refused a report (%s)", task_id, exc)
        except Exception as exc:
            log.exception("task %s failed unexpectedly", task_id)
            with contextlib.suppress(PlatformError, httpx.HTTPError):
                await self.platform.failed(
                    task_id, token=token, error_code="AGENT_ERROR", message=str(exc)[:4096], failed_items={}
                )

    async def _sync(self, task_id: str, token: str, manifest_id: int) -> None:
        async def report(step: str, message: str, progress: int, extra: dict[str, Any]) -> None:
            await self.platform.event(
                task_id,
                token=token,
                level="info",
                step=step,
                message=message,
                progress=progress,
                payload=extra,
            )

        await report("verify", "task accepted", 0, {})
        manifest = await self.platform.manifest(manifest_id, token=token)
        await report(
            "manifest", f"manifest {manifest.get('version')} pulled", 0, {"manifest_id": manifest_id}
        )
        result = await Syncer(self.layout, self.http, report).run(manifest.get("content") or {})
        self.results[task_id] = result
        if result.ok:
            await self.platform.complete(task_id, token=token, summary="ok", synced=result.synced)
            return
        await self.platform.failed(
            task_id,
            token=token,
            error_code=result.error_code,
            message="; ".join(result.errors)[:4096],
            failed_items=result.failed_items,
        )

    # -- heartbeats and alerts ---------------------------------------------------------------------------

    async def _heartbeats(self) -> None:
        while True:
            try:
                await self.heartbeat_once()
            except (PlatformError, httpx.HTTPError, OSError) as exc:
                log.warning("heartbeat failed: %s", exc)
            await asyncio.sleep(self.config.heartbeat_interval)

    async def heartbeat_once(self) -> dict[str, Any]:
        token = self.config.agent_token or ""
        figures = await metrics.collect(self.config.comfy_root)
        body = {
            "status": "busy" if self.busy else "active",
            **figures,
            "agent_version": self.config.agent_version,
            "comfyui_version": await head(self.config.comfy_root),
        }
        answer = await self.platform.heartbeat(self.config.agent_id, token=token, **body)
        await self._disk_alert(token, figures["metrics"]["disk"])
        return answer

    async def _disk_alert(self, token: str, disk: float) -> None:
        low = disk >= self.config.disk_alert_threshold
        if low and not self._disk_low:  # once per crossing, not on every heartbeat
            await self.platform.alert(
                self.config.agent_id,
                token=token,
                type="disk_low",
                message=f"disk usage {disk:.0%}",
                payload={"disk": disk, "path": str(self.config.comfy_root)},
            )
        self._disk_low = low
