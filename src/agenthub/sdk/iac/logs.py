"""Log upload that survives a flaky network: the agent keeps each phase's whole log and sends what the
server has not committed, from the committed offset, each chunk with its sha256. A chunk whose answer was
lost is sent again at the same offset (the server acknowledges bytes it already has without storing them
twice); a 409 names the server's committed offset and the upload resumes from there."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import httpx

from agenthub.sdk.iac.client import ApiError, IacClient


def cut(data: bytes | bytearray, start: int, size: int) -> int:
    """An end offset at most `size` bytes after `start` that does not split a UTF-8 character."""
    end = min(len(data), start + size)
    while end < len(data) and end > start and (data[end] & 0xC0) == 0x80:
        end -= 1
    return end


class LogUploader:
    def __init__(
        self,
        client: IacClient,
        task_id: int,
        *,
        chunk_bytes: int = 64 * 1024,
        flush_interval: float = 1.0,
        retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0),
    ) -> None:
        self.client = client
        self.task_id = task_id
        self.chunk_bytes = chunk_bytes
        self.flush_interval = flush_interval
        self.retry_delays = tuple(retry_delays)
        self.logs: dict[str, bytearray] = {}
        self.committed: dict[str, int] = {}
        self._lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None

    def write(self, phase: str, text: str) -> None:
        self.logs.setdefault(phase, bytearray()).extend(text.encode("utf-8"))
        self.committed.setdefault(phase, 0)

    def text(self, phase: str) -> str:
        return bytes(self.logs.get(phase, b"")).decode("utf-8", "replace")

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_forever())

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            with contextlib.suppress(ApiError, httpx.TransportError):
                await self.flush()

    async def stop(self) -> None:
        """Stops the periodic flush."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None

    async def close(self) -> None:
        """Stops the periodic flush and sends everything left."""
        await self.stop()
        await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            for phase in list(self.logs):
                await self._send(phase)

    async def _send(self, phase: str) -> None:
        data = self.logs[phase]
        failures = 0
        while self.committed[phase] < len(data):
            start = self.committed[phase]
            piece = bytes(data[start : cut(data, start, self.chunk_bytes)])
            try:
                self.committed[phase] = await self.client.upload_chunk(self.task_id, phase, piece, start)
                failures = 0
                continue
            except ApiError as exc:
                resume = exc.body.get("next_offset")
                if exc.status != 409 or not isinstance(resume, int) or failures >= len(self.retry_delays):
                    raise
                self.committed[phase] = resume
            except httpx.TransportError:
                if failures >= len(self.retry_delays):
                    raise
                await asyncio.sleep(self.retry_delays[failures])
            failures += 1
