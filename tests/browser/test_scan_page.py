"""The user's scan page at /scan in headless Chromium, against the running server, with the SDK's scan
poller as the agent on the other side."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from agenthub.core.clock import ManualClock
from agenthub.sdk.oas import OasAgentClient, ScanPoller, ScanSteps
from agenthub.sdk.oas.models import ScanJob
from agenthub.server.runtime import Runtime
from tests.integration.oas.conftest import OasWorld
from tests.support.servers import serving
from tests.support.services import require_executable

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
async def oas_url(runtime: Runtime) -> AsyncIterator[str]:
    async with serving(runtime, "oas") as listeners:
        yield listeners.urls["oas"]


async def test_user_scans_through_the_page(runtime: Runtime, oas_url: str, clock: ManualClock) -> None:
    chromium = require_executable("chromium", "Chromium")
    async with httpx.AsyncClient(base_url=oas_url, timeout=10) as http:
        world = OasWorld(http, clock)
        manager = await world.manager()
        user = await world.user(manager)

    scanned = asyncio.Event()

    async def wait_scanned(_job: ScanJob) -> None:
        await scanned.wait()

    stop = asyncio.Event()
    async with OasAgentClient(
        oas_url, username="mgr1", password="secret123", node_id="BROWSER-AGENT"
    ) as client:
        poller = ScanPoller(
            client, steps=ScanSteps(wait_scanned=wait_scanned), poll_interval=0.05, choice_interval=0.05
        )
        agent = asyncio.create_task(poller.run(stop))
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                page = await browser.new_page()
                await page.goto(oas_url + "/scan")
                await page.fill("#account-no", user["account_no"])
                await page.click("#login-btn")
                await page.click("#start-btn")

                await expect(page.locator("#screenshot")).to_be_visible(timeout=10_000)
                await expect(page.locator("#phase")).to_have_text("请用手机扫描二维码")
                if os.environ.get("AGENTHUB_SCAN_SCREENSHOT"):
                    await page.screenshot(path=os.environ["AGENTHUB_SCAN_SCREENSHOT"])
                scanned.set()

                await page.get_by_role("button", name="iOS").click()
                await expect(page.locator("#phase")).to_have_text("请选择区服")
                await page.fill("#choice-input", "不知火服")
                await page.click("#choice-submit")
                await page.get_by_role("button", name="角色 2").click()
                await expect(page.locator("#result")).to_contain_text("扫码登录完成", timeout=10_000)
                await expect(page.locator("#start-btn")).to_be_enabled()
                await browser.close()
        finally:
            stop.set()
            await asyncio.wait_for(agent, 10)
