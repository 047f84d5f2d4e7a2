"""The user's scan page at /scan in headless Chromium, against the running server, with the SDK's scan
poller as the agent on the other side."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Route, async_playwright, expect

from agenthub.core.clock import ManualClock
from agenthub.sdk.oas import OasAgentClient, ScanPoller, ScanSteps
from agenthub.sdk.oas.models import ScanJob
from agenthub.sdk.oas.qrcode_png import simulated_qrcode_png
from agenthub.server.runtime import Runtime
from tests.integration.oas.conftest import OasWorld
from tests.support.servers import serving
from tests.support.services import require_executable

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Generous but bounded: a cold Chromium start on a loaded machine can take tens of seconds. Every wait below
# is on an event in the page (an element appearing, a text changing), never a fixed pause.
LAUNCH_TIMEOUT_MS = 120_000
STEP_TIMEOUT_MS = 60_000
# What the agent shows for each step: the zone list and the role list, as distinct images.
STEP_SHOTS = {"zone": simulated_qrcode_png("zone-list"), "role": simulated_qrcode_png("role-list")}


@pytest.fixture
async def oas_url(runtime: Runtime) -> AsyncIterator[str]:
    async with serving(runtime, "oas") as listeners:
        yield listeners.urls["oas"]


async def test_user_scans_through_the_page(runtime: Runtime, oas_url: str, clock: ManualClock) -> None:
    chromium = require_executable("chromium", "Chromium")
    async with httpx.AsyncClient(base_url=oas_url, timeout=30) as http:
        world = OasWorld(http, clock)
        manager = await world.manager()
        user = await world.user(manager)

    scanned = asyncio.Event()

    async def wait_scanned(_job: ScanJob) -> None:
        await scanned.wait()

    async def choice_screenshot(_job: ScanJob, choice_type: str) -> bytes | None:
        return STEP_SHOTS.get(choice_type)

    stop = asyncio.Event()
    async with OasAgentClient(
        oas_url, username="mgr1", password="secret123", node_id="BROWSER-AGENT"
    ) as client:
        poller = ScanPoller(
            client,
            steps=ScanSteps(wait_scanned=wait_scanned, choice_screenshot=choice_screenshot),
            poll_interval=0.05,
            choice_interval=0.05,
        )
        agent = asyncio.create_task(poller.run(stop))
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=chromium, args=CHROMIUM_ARGS, timeout=LAUNCH_TIMEOUT_MS
                )
                page = await browser.new_page()
                page.set_default_timeout(STEP_TIMEOUT_MS)
                expect.set_options(timeout=STEP_TIMEOUT_MS)
                await page.goto(oas_url + "/scan", wait_until="domcontentloaded")
                await expect(page.locator("#account-no")).to_be_editable()
                await page.fill("#account-no", user["account_no"])
                await page.click("#login-btn")
                # Who is logged in shows, with a way to log out.
                await expect(page.locator("#who")).to_contain_text(user["account_no"])
                await expect(page.locator("#who")).to_contain_text(user["login_id"])
                shot = page.locator("#screenshot")

                # The create call answers only after the agent took the scan and showed the QR code (as
                # happens under load): the page must not step back to "waiting" nor drop the QR code.
                async def late_create(route: Route) -> None:
                    response = await route.fetch()
                    await expect(page.locator("#phase")).to_have_text("请用手机扫描二维码")
                    await route.fulfill(response=response)

                await page.route("**/api/v1/user/scan/create", late_create)
                await page.click("#start-btn")
                await expect(page.locator("#progress")).to_be_visible()  # the create answer was handled
                await page.unroute("**/api/v1/user/scan/create")
                await expect(page.locator("#phase")).to_have_text("请用手机扫描二维码")
                await expect(shot).to_be_visible()
                await expect(shot).to_have_attribute("data-shot", "qrcode")
                if os.environ.get("AGENTHUB_SCAN_SCREENSHOT"):
                    await page.screenshot(path=os.environ["AGENTHUB_SCAN_SCREENSHOT"])
                scanned.set()

                # Scanned: the QR code is gone; then each choice shows the screenshot of its own step.
                await expect(page.locator("#phase")).to_have_text("请选择系统")
                await expect(shot).to_be_hidden()

                # The answer to the system choice comes back only after the agent already asked for the zone
                # (as happens under load): the zone question must stay on screen.
                async def late_answer(route: Route) -> None:
                    response = await route.fetch()
                    await expect(page.locator("#phase")).to_have_text("请选择区服")
                    await route.fulfill(response=response)

                await page.route("**/api/v1/user/scan/choice", late_answer)
                async with page.expect_request_finished(lambda r: r.url.endswith("/scan/choice")):
                    await page.get_by_role("button", name="iOS").click()
                await page.unroute("**/api/v1/user/scan/choice")
                await expect(page.locator("#phase")).to_have_text("请选择区服")
                await expect(page.locator("#choice-input")).to_be_visible()
                await expect(shot).to_have_attribute("data-shot", "xuanqu")
                await expect(shot).to_have_attribute("src", data_url(STEP_SHOTS["zone"]))
                await expect(shot).to_be_visible()
                await page.fill("#choice-input", "不知火服")
                await page.click("#choice-submit")
                await expect(page.locator("#phase")).to_have_text("请选择角色")
                await expect(shot).to_have_attribute("data-shot", "role")
                await expect(shot).to_have_attribute("src", data_url(STEP_SHOTS["role"]))
                await page.get_by_role("button", name="角色 2").click()
                await expect(page.locator("#result")).to_contain_text("扫码登录完成")
                await expect(page.locator("#start-btn")).to_be_enabled()

                await page.click("#logout-btn")
                await expect(page.locator("#login-card")).to_be_visible()
                await expect(page.locator("#scan-card")).to_be_hidden()
                assert await page.evaluate("sessionStorage.getItem('oas_user_token')") is None
                await browser.close()
            stop.set()
            await asyncio.wait_for(agent, 30)  # between scans the agent stops when told
        finally:
            if not agent.done():  # a failure above left the agent inside a scan: don't hide the failure
                agent.cancel()
                await asyncio.gather(agent, return_exceptions=True)


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
