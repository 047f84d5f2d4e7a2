"""The SDK's shared heartbeat loop: the work's outcome wins, passing failures are retried, a lost lease
cancels the work."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from agenthub.sdk.oas.errors import Conflict, Forbidden, NotFound, OasApiError
from agenthub.sdk.oas.heartbeat import LeaseLost, run_with_heartbeats


async def endless(cancelled: asyncio.Event) -> str:
    """Work that runs until it is cancelled, and says so."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        cancelled.set()
        raise
    return "never"


async def test_returns_what_the_work_returns_and_stops_beating() -> None:
    beats = 0

    async def beat() -> None:
        nonlocal beats
        beats += 1

    assert await run_with_heartbeats(asyncio.sleep(0, "done"), job_id=1, beat=beat, interval=0.001) == "done"
    seen = beats
    await asyncio.sleep(0.01)
    assert beats == seen  # no beat after the work ended


async def test_passing_failures_are_retried_and_the_work_goes_on() -> None:
    failures = [OasApiError(500, "服务器内部错误"), httpx.ConnectError("refused"), None]
    third = asyncio.Event()

    async def beat() -> None:
        failure = failures.pop(0) if failures else None
        if not failures:
            third.set()
        if failure is not None:
            raise failure

    async def work() -> str:
        await third.wait()
        return "finished"

    assert await run_with_heartbeats(work(), job_id=1, beat=beat, interval=0.001) == "finished"


@pytest.mark.parametrize(
    "refusal", [Forbidden(403, "租约不匹配"), NotFound(404, "任务不存在"), Conflict(409, "x")]
)
async def test_a_lost_lease_cancels_the_work(refusal: OasApiError) -> None:
    cancelled = asyncio.Event()

    async def beat() -> None:
        raise refusal

    with pytest.raises(LeaseLost) as lost:
        await run_with_heartbeats(endless(cancelled), job_id=7, beat=beat, interval=0.001)
    assert cancelled.is_set() and lost.value.job_id == 7 and lost.value.cause is refusal


async def test_the_works_own_error_is_raised() -> None:
    async def beat() -> None:
        return None

    async def work() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await run_with_heartbeats(work(), job_id=1, beat=beat, interval=0.001)


async def test_a_beat_that_can_never_succeed_stops_the_work_instead_of_retrying_for_ever() -> None:
    """E.g. the agent's HTTP client was closed under a running job: every beat would fail the same way, and
    the work would go on under a lease nobody renews (and another node would take the job)."""
    cancelled = asyncio.Event()
    beats = 0

    async def beat() -> None:
        nonlocal beats
        beats += 1
        raise RuntimeError("Cannot send a request, as the client has been closed.")

    with pytest.raises(RuntimeError, match="client has been closed"):
        await run_with_heartbeats(endless(cancelled), job_id=1, beat=beat, interval=0.001)
    assert cancelled.is_set() and beats == 1
