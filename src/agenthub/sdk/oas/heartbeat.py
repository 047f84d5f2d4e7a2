"""One heartbeat loop for every Oas poller: keeps a job's lease alive while its work runs, and stops the
work when the server says the lease is gone.

Like a Temporal worker's side loops, the heartbeat is not advice: when the server refuses a heartbeat
because this node no longer holds the job (403 "租约不匹配", or the job is gone or ended: 404/409), the work
is cancelled and `LeaseLost` raised, so the agent stops acting on a job someone else may hold now and sends
no report for it. Passing failures (the network, a timeout, a 5xx) are logged and tried again at the next
beat: the lease may well still be alive. Anything else (a closed client, a bug in the beat) can never
succeed, so the work would run on a lease nobody renews: the work is cancelled and that error raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from agenthub.sdk.oas.errors import Conflict, Forbidden, NotFound, OasApiError

log = logging.getLogger(__name__)

T = TypeVar("T")

# What the server answers when this node's lease is gone: whatever the work does now, nobody will take it.
LEASE_GONE: tuple[type[OasApiError], ...] = (Forbidden, NotFound, Conflict)
# What may pass by the next beat: the server's other answers (5xx, 429, ...), the network, a timeout.
PASSING: tuple[type[Exception], ...] = (OasApiError, httpx.TransportError, OSError, TimeoutError)


class LeaseLost(Exception):
    """The server refused a heartbeat: this node no longer holds the job. The work was cancelled."""

    def __init__(self, job_id: int, cause: OasApiError) -> None:
        super().__init__(f"job {job_id}: lease lost ({cause})")
        self.job_id = job_id
        self.cause = cause


async def _beat_until_refused(job_id: int, beat: Callable[[], Awaitable[Any]], interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await beat()
        except LEASE_GONE as exc:
            raise LeaseLost(job_id, exc) from exc
        except PASSING as exc:
            log.warning("heartbeat for job %s failed (%s); trying again", job_id, exc)


async def run_with_heartbeats(
    work: Awaitable[T], *, job_id: int, beat: Callable[[], Awaitable[Any]], interval: float
) -> T:
    """Runs `work`, calling `beat` every `interval` seconds until it ends; returns what the work returns.

    Raises `LeaseLost` (after cancelling the work and waiting for it to stop) when a beat is refused
    because the lease is gone, and a beat's own error, the same way, when it is not one that may pass.
    Cancelling the caller cancels both."""
    working = asyncio.ensure_future(work)
    beating = asyncio.create_task(_beat_until_refused(job_id, beat, interval), name=f"heartbeat-{job_id}")
    try:
        await asyncio.wait({working, beating}, return_when=asyncio.FIRST_COMPLETED)
        if working.done():  # the work's own outcome wins, even if the lease went at the same moment
            return working.result()
        working.cancel()
        await asyncio.gather(working, return_exceptions=True)
        beating.result()  # raises LeaseLost or the beat's error: the loop ends no other way
        raise AssertionError("the heartbeat loop ended without losing the lease")
    finally:
        for task in (working, beating):
            task.cancel()
        await asyncio.gather(working, beating, return_exceptions=True)
