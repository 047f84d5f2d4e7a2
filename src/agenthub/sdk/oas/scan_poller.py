"""The agent side of scan (QR login) jobs: poll, start, walk the phases, wait for the user's choices.

    async with OasAgentClient(url, username="mgr1", password="...", node_id="PC-1") as client:
        await ScanPoller(client, steps=my_game_steps).run(stop)

The game-driving steps are pluggable (`ScanSteps`); the defaults simulate a game and draw a stand-in QR
code, which is what `run_simulated_scan_agent` (and `agenthub agent oas --scan`) runs.

While a step runs, the poller keeps the lease alive and watches the choice endpoint; when the user cancels
or leaves (`cancelled` / `user_online=false`) it stops the step and reports `CANCELLED`. A failing step is
reported as `EXECUTOR_ERROR` (the server retries the scan while attempts < max_attempts). A lost lease
(403) or an ended job (409) stops the scan without a report: someone else owns it now. That includes a
heartbeat refused while a step runs: the shared `heartbeat.run_with_heartbeats` cancels the walk.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agenthub.sdk.oas.client import OasAgentClient
from agenthub.sdk.oas.errors import Conflict, Forbidden, NotFound
from agenthub.sdk.oas.heartbeat import LeaseLost, run_with_heartbeats
from agenthub.sdk.oas.models import ScanChoice, ScanJob
from agenthub.sdk.oas.qrcode_png import simulated_qrcode_png

log = logging.getLogger(__name__)

CANCELLED = "CANCELLED"
EXECUTOR_ERROR = "EXECUTOR_ERROR"


class ScanOutcome(StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    LOST = "lost"  # the lease or the job went away; nothing was reported


class ScanAborted(Exception):
    """The user cancelled or left; the message says which."""


async def _nothing(_job: ScanJob) -> None:
    return None


async def _simulated_qrcode(job: ScanJob) -> bytes:
    return simulated_qrcode_png(f"{job.scan_job_id}:{job.login_id}")


async def _no_screenshot(_job: ScanJob, _choice_type: str) -> bytes | None:
    return None


async def _apply_nothing(_job: ScanJob, _choice_type: str, _value: str) -> None:
    return None


async def _always(_job: ScanJob) -> bool:
    return True


@dataclass
class ScanSteps:
    """What drives the game; each default simulates a game that does as it is told at once."""

    launch: Callable[[ScanJob], Awaitable[None]] = _nothing
    qrcode: Callable[[ScanJob], Awaitable[bytes]] = _simulated_qrcode  # a PNG of the login QR code
    wait_scanned: Callable[[ScanJob], Awaitable[None]] = _nothing  # returns once the QR code disappears
    choice_screenshot: Callable[[ScanJob, str], Awaitable[bytes | None]] = _no_screenshot
    apply_choice: Callable[[ScanJob, str, str], Awaitable[None]] = _apply_nothing
    needs_role: Callable[[ScanJob], Awaitable[bool]] = _always
    enter: Callable[[ScanJob], Awaitable[None]] = _nothing
    pull_data: Callable[[ScanJob], Awaitable[None]] = _nothing


SCREENSHOT_KEYS = {"system": None, "zone": "xuanqu", "role": "role"}


@dataclass
class ScanPoller:
    client: OasAgentClient
    steps: ScanSteps = field(default_factory=ScanSteps)
    poll_interval: float = 2.0
    choice_interval: float = 2.0
    heartbeat_interval: float = 30.0
    lease_seconds: int = 120
    limit: int = 1
    on_outcome: Callable[[ScanJob, ScanOutcome], Awaitable[None]] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Polls and runs scans one after another until `stop` is set."""
        while not stop.is_set():
            try:
                ran = await self.run_once()
            except Exception:
                log.exception("scan poll failed; trying again")
                ran = False
            if not ran:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_interval)

    async def run_once(self) -> bool:
        """Polls once and runs what it got; False when there was nothing to do."""
        jobs = await self.client.scan_poll(limit=self.limit, lease_seconds=self.lease_seconds)
        for job in jobs:
            await self.run_job(job)
        return bool(jobs)

    async def run_job(self, job: ScanJob) -> ScanOutcome:
        outcome = await self._run(job)
        log.info("scan %s for login_id %s: %s", job.scan_job_id, job.login_id, outcome.value)
        if self.on_outcome is not None:
            await self.on_outcome(job, outcome)
        return outcome

    async def _run(self, job: ScanJob) -> ScanOutcome:
        scan_id = job.scan_job_id
        try:
            await self.client.scan_start(scan_id, lease_seconds=self.lease_seconds)
            await run_with_heartbeats(
                self._walk(job),
                job_id=scan_id,
                beat=lambda: self.client.scan_heartbeat(scan_id, lease_seconds=self.lease_seconds),
                interval=self.heartbeat_interval,
            )
            await self.client.scan_complete(scan_id, message=f"扫码完成: login_id={job.login_id}")
            return ScanOutcome.COMPLETED
        except ScanAborted as exc:
            return await self._report(scan_id, str(exc), CANCELLED, ScanOutcome.CANCELLED)
        except (Forbidden, NotFound, Conflict, LeaseLost) as exc:
            log.warning("scan %s: %s", scan_id, exc)
            return ScanOutcome.LOST
        except Exception as exc:
            log.exception("scan %s failed", scan_id)
            return await self._report(
                scan_id, str(exc) or type(exc).__name__, EXECUTOR_ERROR, ScanOutcome.FAILED
            )

    async def _walk(self, job: ScanJob) -> None:
        scan_id, steps = job.scan_job_id, self.steps  # start already put the scan in `launching`
        await self._watched(job, steps.launch(job))
        qrcode = await steps.qrcode(job)
        await self._phase(scan_id, "qrcode_ready", qrcode, "qrcode")
        await self._watched(job, steps.wait_scanned(job))
        await self._choose(job, "choose_system", "system")
        await self._choose(job, "choose_zone", "zone")
        if await steps.needs_role(job):
            await self._choose(job, "choose_role", "role")
        await self._phase(scan_id, "entering")
        await self._watched(job, steps.enter(job))
        await self._phase(scan_id, "pulling_data")
        await self._watched(job, steps.pull_data(job))
        await self._phase(scan_id, "done")

    async def _choose(self, job: ScanJob, phase: str, choice_type: str) -> None:
        screenshot = await self.steps.choice_screenshot(job, choice_type)
        await self._phase(job.scan_job_id, phase, screenshot, SCREENSHOT_KEYS[choice_type])
        value = await self.wait_choice(job.scan_job_id, choice_type)
        await self._watched(job, self.steps.apply_choice(job, choice_type, value))

    async def wait_choice(self, scan_id: int, choice_type: str) -> str:
        """Polls the choice endpoint until the user picks a value of this type (or cancels, or leaves)."""
        while True:
            choice = await self.client.scan_choice(scan_id)
            _raise_if_aborted(choice)
            if choice.has_choice and choice.choice_type == choice_type and choice.value is not None:
                return choice.value
            await asyncio.sleep(self.choice_interval)

    async def _phase(
        self, scan_id: int, phase: str, screenshot: bytes | None = None, key: str | None = None
    ) -> None:
        encoded = base64.b64encode(screenshot).decode("ascii") if screenshot is not None else None
        await self.client.scan_phase(scan_id, phase, screenshot=encoded, screenshot_key=key)

    async def _watched(self, job: ScanJob, step: Awaitable[Any]) -> None:
        """Runs a game step while watching for the user cancelling or leaving."""
        work = asyncio.ensure_future(step)
        watcher = asyncio.create_task(self._watch(job.scan_job_id))
        try:
            done, _ = await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if work in done:
                work.result()
                return
            watcher.result()  # raises ScanAborted or the client's error
        finally:
            for task in (work, watcher):
                task.cancel()
            await asyncio.gather(work, watcher, return_exceptions=True)

    async def _watch(self, scan_id: int) -> None:
        while True:
            await asyncio.sleep(self.choice_interval)
            _raise_if_aborted(await self.client.scan_choice(scan_id))

    async def _report(self, scan_id: int, message: str, code: str, outcome: ScanOutcome) -> ScanOutcome:
        try:
            await self.client.scan_fail(scan_id, message=message, error_code=code)
        except (Forbidden, NotFound, Conflict) as exc:
            log.warning("scan %s: could not report %s: %s", scan_id, code, exc)
            return ScanOutcome.LOST
        return outcome


def _raise_if_aborted(choice: ScanChoice) -> None:
    if choice.cancelled:
        raise ScanAborted("用户取消")
    if not choice.user_online:
        raise ScanAborted("用户离开扫码页面")


async def run_simulated_scan_agent(
    client: OasAgentClient,
    *,
    stop: asyncio.Event,
    steps: ScanSteps | None = None,
    poll_interval: float = 2.0,
    choice_interval: float = 2.0,
    lease_seconds: int = 120,
) -> None:
    """Serves scan jobs with a simulated game until `stop` is set (`agenthub agent oas --scan`)."""
    poller = ScanPoller(
        client,
        steps=steps or ScanSteps(),
        poll_interval=poll_interval,
        choice_interval=choice_interval,
        lease_seconds=lease_seconds,
    )
    await poller.run(stop)
