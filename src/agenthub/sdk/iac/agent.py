"""The IaC agent: keeps a C&C WebSocket to the platform, takes `run_task`, runs real Terraform in a fresh
working directory, and reports through the seed's REST API.

Wire behaviour follows the original agent: a heartbeat right after connecting and every 10 s with its real
load; reconnect after 2 s, doubling to 60 s; on `run_task` it fetches the task's data, reports stages and
change counts through status, streams output through log chunks (and `log_stream` lines while asked to),
uploads the new state, and ends with `task_completed` or `task_failed`. `cancel_task` stops terraform
(SIGTERM, then SIGKILL) and reports the task cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect

from agenthub.sdk.iac import terraform
from agenthub.sdk.iac.client import IacClient
from agenthub.sdk.iac.logs import LogUploader
from agenthub.sdk.iac.terraform import TerraformVersions

log = logging.getLogger(__name__)

APPLY_ACTIONS = frozenset({"apply", "plan_and_apply"})
PLAN_SUMMARY = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")
Hook = Callable[[int], Awaitable[None]]


@dataclass
class AgentConfig:
    server_url: str
    agent_id: str
    app_key: str
    app_secret: str
    versions_dir: Path | None = None
    terraform: Path | None = (
        None  # the one binary besides the folder; None: AGENTHUB_IAC_TERRAFORM, PATH, bundled
    )
    work_dir: Path | None = None  # where each task's fresh directory is made (system temp by default)
    plan_limit: int = 3
    heartbeat_interval: float = 10.0
    reconnect_initial: float = 2.0
    reconnect_max: float = 60.0
    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    chunk_bytes: int = 64 * 1024
    log_retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # a chunk is retried from the committed offset
    log_flush_interval: float = 1.0
    kill_after: float = 5.0
    transport: httpx.AsyncBaseTransport | None = None  # tests inject network faults here
    before_apply: Hook | None = None  # tests hold a task inside its terraform step here


class TaskFailed(Exception):
    pass


@dataclass
class _Running:
    task_id: int
    action: str
    job: asyncio.Task[None]
    stage: str = "fetching"
    lines: int = 0
    streaming: asyncio.Event = field(default_factory=asyncio.Event)  # set while the platform asks for lines
    silent: bool = False  # stop without reporting: pushed again (the new run reports), or shutting down


@dataclass
class IacAgent:
    config: AgentConfig
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    connections: int = 0  # how many times the C&C socket was opened (tests watch reconnects)
    finished: list[tuple[int, str]] = field(default_factory=list)  # (task_id, outcome) in order
    outputs: dict[int, dict[str, str]] = field(
        default_factory=dict
    )  # task -> phase -> what terraform printed

    def __post_init__(self) -> None:
        cfg = self.config
        self.client = IacClient(
            cfg.server_url,
            agent_id=cfg.agent_id,
            app_key=cfg.app_key,
            app_secret=cfg.app_secret,
            transport=cfg.transport,
            retry_delays=cfg.retry_delays,
        )
        defaults = [cfg.terraform] if cfg.terraform is not None else terraform.default_terraforms()
        self.versions = TerraformVersions(versions_dir=cfg.versions_dir, defaults=defaults)
        self.running: dict[int, _Running] = {}
        self._ws: ClientConnection | None = None
        self._main: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        psutil.cpu_percent(None)  # the first reading is meaningless; start the interval now

    async def __aenter__(self) -> IacAgent:
        self._main = asyncio.create_task(self._connect_forever(), name=f"iac-agent-{self.config.agent_id}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stops the agent. Its running tasks stop without reporting anything: the platform sees the C&C
        connection close and puts them back in the queue for another agent."""
        for running in list(self.running.values()):
            running.silent = True
            running.job.cancel()
        await asyncio.gather(*(r.job for r in list(self.running.values())), return_exceptions=True)
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
        await self.client.aclose()

    async def wait_finished(self, task_id: int, timeout: float = 30.0) -> str:
        """The outcome of a task this agent ran (`completed`, `failed`, `cancelled`)."""

        def outcome() -> str | None:
            return next((o for t, o in self.finished if t == task_id), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(outcome), timeout)
        result = outcome()
        assert result is not None
        return result

    async def drop_connection(self) -> None:
        """Closes the C&C socket as a network failure would (the agent reconnects by itself)."""
        if self._ws is not None:
            await self._ws.close()

    # -- the C&C connection ----------------------------------------------------------------------------------

    async def _connect_forever(self) -> None:
        delay = self.config.reconnect_initial
        while True:
            try:
                async with connect(
                    self.client.control_url, additional_headers=self.client.headers, open_timeout=10
                ) as ws:
                    self._ws = ws
                    self.connections += 1
                    delay = self.config.reconnect_initial
                    await self._session(ws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("iac agent %s: C&C connection failed: %s", self.config.agent_id, exc)
            finally:
                self._ws = None
                self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.reconnect_max)

    async def _session(self, ws: ClientConnection) -> None:
        await self._heartbeat()
        self.connected.set()
        beats = asyncio.create_task(self._beat_forever())
        try:
            async for raw in ws:
                await self._on_message(raw if isinstance(raw, str) else raw.decode("utf-8", "replace"))
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_interval)
            await self._heartbeat()

    async def _heartbeat(self) -> None:
        plans = sum(1 for r in self.running.values() if r.action not in APPLY_ACTIONS)
        await self._send(
            "heartbeat",
            {
                "plan_running": plans,
                "plan_limit": self.config.plan_limit,
                "apply_running": any(r.action in APPLY_ACTIONS for r in self.running.values()),
                "current_tasks": sorted(self.running),
                "cpu_usage": psutil.cpu_percent(None),
                "mem_usage": psutil.virtual_memory().percent,
                "status": "ok",
                "timestamp": int(time.time()),
            },
        )

    async def _send(self, kind: str, payload: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None:
            return
        try:
            await ws.send(json.dumps({"type": kind, "payload": payload}))
        except Exception as exc:  # the reconnect loop notices; the REST reports already carry the outcome
            log.info("iac agent: could not send %s: %s", kind, exc)

    async def _on_message(self, raw: str) -> None:
        try:
            message = json.loads(raw)
            kind, payload = message["type"], message.get("payload") or {}
            task_id = int(payload["task_id"])
        except (ValueError, KeyError, TypeError):
            return
        running = self.running.get(task_id)
        if kind == "run_task":
            if running is not None:
                # Pushed again: the platform gave the task up (e.g. our connection dropped) and leased it
                # anew; the old run's reports would be refused, so it stops and the task starts over.
                running.silent = True
                running.job.cancel()
                await asyncio.gather(running.job, return_exceptions=True)
            action = str(payload.get("action") or "plan")
            job = asyncio.create_task(self._run_task(task_id, action), name=f"iac-task-{task_id}")
            self.running[task_id] = _Running(task_id, action, job)
        elif kind == "cancel_task" and running is not None:
            running.job.cancel()
        elif kind in ("start_realtime_stream", "stop_realtime_stream") and running is not None:
            if kind == "start_realtime_stream":
                running.streaming.set()
            else:
                running.streaming.clear()

    # -- running a task --------------------------------------------------------------------------------------

    async def _run_task(self, task_id: int, action: str) -> None:
        cfg = self.config
        uploader = LogUploader(
            self.client,
            task_id,
            chunk_bytes=cfg.chunk_bytes,
            flush_interval=cfg.log_flush_interval,
            retry_delays=cfg.log_retry_delays,
        )
        started = time.monotonic()
        outcome = "failed"
        try:
            uploader.start()
            await self._execute(task_id, action, uploader, started)
            outcome = "completed"
            await self._send("task_completed", {"task_id": task_id})
        except asyncio.CancelledError:
            outcome = "cancelled"
            running = self.running.get(task_id)
            if running is not None and running.silent:
                await uploader.stop()
            else:
                with contextlib.suppress(Exception):
                    await uploader.close()
                await self._send("task_failed", {"task_id": task_id, "error": "task cancelled"})
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            log.info("iac agent: task %s failed: %s", task_id, message)
            with contextlib.suppress(Exception):
                await uploader.close()
            with contextlib.suppress(Exception):
                await self.client.update_status(
                    task_id, "failed", error_message=message, duration=int(time.monotonic() - started)
                )
            await self._send("task_failed", {"task_id": task_id, "error": message})
        finally:
            self.outputs[task_id] = {phase: uploader.text(phase) for phase in uploader.logs}
            current = self.running.get(task_id)
            if current is not None and current.job is asyncio.current_task():
                del self.running[task_id]
            await self._heartbeat()  # a freed slot: the server may push the next task right away
            async with self._changed:
                self.finished.append((task_id, outcome))
                self._changed.notify_all()

    async def _execute(self, task_id: int, action: str, uploader: LogUploader, started: float) -> None:
        cfg = self.config
        await self._stage(task_id, "fetching")
        data = await self.client.task_data(task_id)
        binary = await self.versions.binary_for(str(data["workspace"]["terraform_version"]))
        with tempfile.TemporaryDirectory(prefix=f"iac-{task_id}-", dir=cfg.work_dir) as tmp:
            workdir = Path(tmp)
            env = prepare(workdir, data)

            async def tf(phase: str, *args: str) -> int:
                async def out(text: str) -> None:
                    uploader.write(phase, text)
                    await self._stream(task_id, text)

                return await terraform.run(
                    [str(binary), *args], cwd=workdir, env=env, on_output=out, kill_after=cfg.kill_after
                )

            await self._stage(task_id, "init")
            if await tf("init", "init", "-input=false", "-no-color") != 0:
                raise TaskFailed("terraform init failed")
            await self._stage(task_id, "planning")
            code = await tf(
                "plan", "plan", "-input=false", "-no-color", "-out=plan.tfplan", "-detailed-exitcode"
            )
            if code not in (0, 2):
                raise TaskFailed("terraform plan failed")
            changes = plan_changes(uploader.text("plan"))
            if action not in APPLY_ACTIONS:
                await uploader.close()
                await self.client.update_status(
                    task_id, "success", stage="completed", duration=_since(started), **changes
                )
                return
            await self._stage(task_id, "applying", **changes)
            if cfg.before_apply is not None:
                await cfg.before_apply(task_id)
            if await tf("apply", "apply", "-input=false", "-no-color", "-auto-approve", "plan.tfplan") != 0:
                raise TaskFailed("terraform apply failed")
            await self._stage(task_id, "saving_state")
            state = workdir / "terraform.tfstate"
            if state.is_file():
                await self.client.save_state(task_id, state.read_text("utf-8"))
            await uploader.close()
            await self.client.update_status(
                task_id, "applied", stage="completed", duration=_since(started), **changes
            )

    async def _stage(self, task_id: int, stage: str, **fields: Any) -> None:
        running = self.running.get(task_id)
        if running is not None:
            running.stage = stage
        await self.client.update_status(task_id, "running", stage=stage, **fields)

    async def _stream(self, task_id: int, text: str) -> None:
        running = self.running.get(task_id)
        if running is None or not running.streaming.is_set():
            return
        for line in text.splitlines():
            running.lines += 1
            await self._send(
                "log_stream",
                {
                    "task_id": task_id,
                    "type": "output",
                    "line": line,
                    "timestamp": int(time.time()),
                    "line_num": running.lines,
                    "stage": running.stage,
                    "status": "running",
                },
            )


def prepare(workdir: Path, data: dict[str, Any]) -> dict[str, str]:
    """Writes the workspace's files, terraform variables and current state; returns the process env."""
    workspace = data["workspace"]
    for name, content in (workspace.get("tf_code") or {}).items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise TaskFailed(f"refusing to write tf_code file {name!r}")
        (workdir / name).write_text(str(content), "utf-8")
    env = {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",  # no call home: agents may run offline
    }
    tfvars: dict[str, Any] = {}
    for variable in data.get("variables") or []:
        if variable.get("value") is None:
            continue
        if variable.get("category") == "env":
            env[str(variable["key"])] = str(variable["value"])
        else:
            tfvars[str(variable["key"])] = variable["value"]
    if tfvars:
        (workdir / "terraform.tfvars.json").write_text(json.dumps(tfvars), "utf-8")
    state = data.get("state_version")
    if state and state.get("content") is not None:
        content = state["content"]
        text = content if isinstance(content, str) else json.dumps(content, indent=2)
        (workdir / "terraform.tfstate").write_text(text, "utf-8")
    return env


def plan_changes(plan_output: str) -> dict[str, int]:
    match = PLAN_SUMMARY.search(plan_output)
    add, change, destroy = (int(n) for n in match.groups()) if match else (0, 0, 0)
    return {"changes_add": add, "changes_change": change, "changes_destroy": destroy}


def _since(started: float) -> int:
    return int(time.monotonic() - started)
