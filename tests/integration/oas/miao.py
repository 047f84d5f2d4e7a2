"""A stand-in for the Miao reminder service: records every /trigger request; can hang until released (a
slow service, without a timing assumption) or be broken."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class FakeMiao:
    url: str = ""
    hang: bool = False  # answer only once `release` is set
    drip: bool = False  # send the answer's headers, then a byte now and then until `release` is set
    status: int = 200
    requests: list[dict[str, str]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def trigger(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        self.arrived.set()
        if self.drip:
            response = web.StreamResponse(headers={"content-type": "application/json"})
            await response.prepare(request)
            while not self.release.is_set():
                await response.write(b" ")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.release.wait(), timeout=0.05)
            return response
        if self.hang:
            await self.release.wait()
        if self.status != 200:
            return web.Response(status=self.status, text="broken")
        return web.json_response({"code": 0, "msg": "ok"})


@asynccontextmanager
async def fake_miao(**options: object) -> AsyncIterator[FakeMiao]:
    miao = FakeMiao(**options)  # type: ignore[arg-type]
    app = web.Application()
    app.router.add_get("/trigger", miao.trigger)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    miao.url = f"http://127.0.0.1:{port}"
    try:
        yield miao
    finally:
        miao.release.set()
        await runner.cleanup()
