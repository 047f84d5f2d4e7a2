"""Each protocol's `/docs` works without internet: the page names only this server's URLs, and they answer.
(No storage involved beyond starting the protocols, so SQLite alone.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from agenthub.core.clock import ManualClock
from agenthub.protocols.registry import available
from agenthub.server.runtime import Runtime
from agenthub.server.startup import open_runtime
from tests.conftest import make_settings
from tests.support.servers import serving

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")
PROTOCOLS = tuple(name for name in available() if name != "console")  # the console is a web app, not an API


@pytest.fixture
async def runtime(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    async with open_runtime(make_settings(sqlite_url), clock=clock) as rt:
        yield rt


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_docs_page_references_only_local_assets_that_answer(runtime: Runtime, protocol: str) -> None:
    async with (
        serving(runtime, protocol) as listeners,
        httpx.AsyncClient(base_url=listeners.urls[protocol], timeout=20) as http,
    ):
        page = await http.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        urls = [a or b for a, b in ASSET.findall(page.text)]
        assert any(u.endswith("swagger-ui-bundle.js") for u in urls), urls
        assert any(u.endswith("swagger-ui.css") for u in urls), urls
        assert not [u for u in urls if "//" in u], "the docs page must not load anything from elsewhere"
        assert "cdn" not in page.text.lower()
        for url in urls:
            r = await http.get(url)
            assert r.status_code == 200, url
            assert r.content, url
        spec = (await http.get("/openapi.json")).json()
        assert spec["paths"], "Swagger UI has an API to show"
