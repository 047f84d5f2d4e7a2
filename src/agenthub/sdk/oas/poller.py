"""A job poller for Oas agents: what Oas2.0's CloudTaskPoller does, on top of OasAgentClient.

    async with OasAgentClient(url, username="mgr1", password="...", node_id="PC-1") as client:
        async with JobPoller(client, handlers={"signin": run_signin}):
            await stop.wait()

For every leased job it reads the user's full-config, maps `UserID` to a local account, reports start, keeps
the lease alive with heartbeats while the handler runs, reports complete or fail with the result of seed
000 sections 4.5/4.6, and uploads the handler's logs. Errors of the server or the network back off
(1 s doubling to 30 s); a 401 makes the client log in again. A heartbeat refused because the lease is gone
(`heartbeat.run_with_heartbeats`) cancels the handler, and nothing is reported for that job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from agenthub.sdk.oas.client import OasAgentClient
from agenthub.sdk.oas.errors import OasApiError
from agenthub.sdk.oas.heartbeat import LeaseLost, run_with_heartbeats
from agenthub.sdk.oas.models import AgentJob

log = logging.getLogger(__name__)

NOT_MAPPED = "LOCAL_ACCOUNT_NOT_MAPPED"
TASK_TYPE_INVALID = "TASK_TYPE_INVALID"
EXEC_FAIL = "LOCAL_EXEC_FAIL"
BATCH_FAILED = "LOCAL_BATCH_FAILED"


@dataclass(frozen=True, slots=True)
class LocalAccount:
    """Oas2.0's GameAccount: the local id, the game login id, and the cloud user it stands for."""

    id: int
    login_id: str
    cloud_user_id: int


@dataclass(slots=True)
class TaskRun:
    """What a handler gets: the job, the local account, the user's full-config, and a log to fill."""

    job: AgentJob
    account: LocalAccount
    config: dict[str, Any]
    logs: list[dict[str, Any]] = field(default_factory=list)

    def log(self, message: str, level: str = "INFO") -> None:
        ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.logs.append({"type": self.job.task_type, "level": level, "message": message, "ts": ts})


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What a handler returns. A handler that raises counts as a failure with LOCAL_EXEC_FAIL."""

    success: bool
    message: str = ""
    error_code: str | None = None
    account_status: str = "active"
    current_task: str = ""
    assets: dict[str, Any] | None = None
    explore_progress: dict[str, bool] | None = None


Handler = Callable[[TaskRun], Awaitable[TaskOutcome]]


def account_result(outcome: TaskOutcome, account: LocalAccount | None) -> dict[str, Any]:
    """The `result` of complete/fail: always account_status, login_id, current_task; assets and
    explore_progress only on success (Oas2.0's `_collect_account_result`)."""
    result: dict[str, Any] = {
        "account_status": outcome.account_status,
        "login_id": account.login_id if account else "",
        "current_task": outcome.current_task,
    }
    if outcome.success:
        result["assets"] = outcome.assets or {}
        result["explore_progress"] = outcome.explore_progress or {}
    return result


class JobPoller:
    def __init__(
        self,
        client: OasAgentClient,
        *,
        handlers: Mapping[str, Handler],
        default_handler: Handler | None = None,
        account_map: Mapping[int, LocalAccount] | None = None,
        concurrency: int = 1,
        lease_seconds: int = 90,
        poll_interval: float = 2.0,
        heartbeat_interval: float | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        """`account_map` maps cloud user ids to local accounts; None treats every cloud user as a local
        account of the same id whose login_id comes from full-config (what the simulated agent does)."""
        self.client = client
        self.handlers = dict(handlers)
        self.default_handler = default_handler
        self.account_map = account_map
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval or max(1.0, lease_seconds / 3)
        self.max_backoff = max_backoff
        self.processed = 0
        self._stop = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> JobPoller:
        self._stop.clear()
        self._runner = asyncio.create_task(self.run(self._stop), name="oas-job-poller")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._runner is not None:
            await self._runner
            self._runner = None

    async def run(self, stop: asyncio.Event) -> None:
        """Polls until `stop` is set, then lets the jobs under way finish."""
        backoff = 0.0
        while not stop.is_set():
            try:
                started = await self._poll_and_start()
                backoff = 0.0
            except OasApiError as exc:
                backoff = min(self.max_backoff, backoff * 2 or 1.0)
                log.warning("poll failed (%s); retrying in %.0f s", exc, backoff)
                started = 0
            except Exception as exc:  # network errors and the like: back off, never die
                backoff = min(self.max_backoff, backoff * 2 or 1.0)
                log.warning("poll failed (%r); retrying in %.0f s", exc, backoff)
                started = 0
            if started == 0 or backoff:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff or self.poll_interval)
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run_once(self) -> int:
        """One poll; waits until every job it leased is reported. Returns how many it handled."""
        jobs = await self.client.poll_jobs(limit=self.concurrency, lease_seconds=self.lease_seconds)
        await asyncio.gather(*(self.process(job) for job in jobs))
        return len(jobs)

    async def _poll_and_start(self) -> int:
        free = self.concurrency - len(self._running)
        if free <= 0:
            return 0
        jobs = await self.client.poll_jobs(limit=free, lease_seconds=self.lease_seconds)
        for job in jobs:
            task = asyncio.create_task(self.process(job), name=f"oas-job-{job.id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(jobs)

    async def process(self, job: AgentJob) -> None:
        """Runs one leased job to its report; never raises (a lost lease or a server error is logged)."""
        try:
            await self._process(job)
        except LeaseLost as exc:
            log.warning("job %s (%s) stopped without a report: %s", job.id, job.task_type, exc)
        except Exception:
            log.exception("job %s (%s) could not be reported", job.id, job.task_type)
        finally:
            self.processed += 1

    async def _process(self, job: AgentJob) -> None:
        config = await self.client.full_config(job.user_id)
        account = self._account(job, config)
        if account is None:
            outcome = TaskOutcome(False, f"云端用户 {job.user_id} 无对应本地账号", NOT_MAPPED, "")
            await self._report(job, None, outcome, [])
            return
        handler = self.handlers.get(job.task_type, self.default_handler)
        if handler is None:
            outcome = TaskOutcome(False, f"不支持的任务类型: {job.task_type}", TASK_TYPE_INVALID)
            await self._report(job, account, outcome, [])
            return
        await self.client.start(
            job.id, lease_seconds=self.lease_seconds, message=f"已入队本地账号 {account.id}"
        )
        run = TaskRun(job=job, account=account, config=config)
        outcome = await self._run_with_heartbeats(handler, run)
        await self._report(job, account, outcome, run.logs)

    def _account(self, job: AgentJob, config: dict[str, Any]) -> LocalAccount | None:
        if self.account_map is None:
            return LocalAccount(
                id=job.user_id, login_id=str(config.get("login_id", "")), cloud_user_id=job.user_id
            )
        return self.account_map.get(job.user_id)

    async def _run_with_heartbeats(self, handler: Handler, run: TaskRun) -> TaskOutcome:
        """The handler's outcome; raises LeaseLost (the handler cancelled) when the lease went away."""

        async def handle() -> TaskOutcome:
            try:
                return await handler(run)
            except Exception as exc:
                log.exception("handler for %s failed", run.job.task_type)
                return TaskOutcome(False, f"执行异常: {exc}", EXEC_FAIL)

        async def beat() -> None:
            await self.client.heartbeat(
                run.job.id, lease_seconds=self.lease_seconds, message="执行中，保持租约"
            )

        return await run_with_heartbeats(
            handle(), job_id=run.job.id, beat=beat, interval=self.heartbeat_interval
        )

    async def _report(
        self, job: AgentJob, account: LocalAccount | None, outcome: TaskOutcome, logs: list[dict[str, Any]]
    ) -> None:
        result = account_result(outcome, account)
        if outcome.success:
            await self.client.complete(job.id, message=outcome.message, result=result)
        else:
            await self.client.fail(
                job.id, message=outcome.message, error_code=outcome.error_code or BATCH_FAILED, result=result
            )
        summary = f"批次{'完成' if outcome.success else '失败'}: {job.task_type}"
        ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        entry = {"type": job.task_type, "level": "INFO" if outcome.success else "WARNING", "message": summary}
        try:
            await self.client.upload_logs(job.user_id, [*logs, {**entry, "ts": ts}])
        except OasApiError as exc:
            log.warning("could not upload logs of job %s: %s", job.id, exc)
