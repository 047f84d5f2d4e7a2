"""The operator console in headless Chromium against a real server with agents of three protocols running
in-process (an Oas job poller, a devices client, a ComfyUI agent): log in, see the agents, disable one and
read why its job waits, enable it and watch the job go pending -> running -> success without a reload,
open its events and logs, read a ComfyUI "unreachable" reason and cancel that task. Screenshots go to
test-artifacts/console/ (gitignored); the page must log no console errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from agenthub.core.clock import ManualClock
from agenthub.sdk.comfyui import AgentConfig, ComfyuiAgent
from agenthub.sdk.devices import DeviceClient, Task
from agenthub.sdk.oas import OasAgentClient
from agenthub.sdk.oas.poller import JobPoller, TaskOutcome, TaskRun
from agenthub.server.runner import Listeners
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.integration.comfyui.conftest import ComfyWorld, comfyui_settings
from tests.integration.oas.conftest import OasWorld
from tests.support.servers import serving
from tests.support.services import require_executable

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
WAIT = 15_000


@pytest.fixture
def settings(database_url: str) -> Settings:
    from agenthub.console.settings import ConsoleSettings

    base = make_settings(database_url)
    base.protocols["comfyui"] = comfyui_settings()
    base.protocols["console"] = ConsoleSettings(port=0, sample_seconds=0.3)
    return base


@pytest.fixture
async def served(runtime: Runtime) -> AsyncIterator[Listeners]:
    async with serving(runtime, "oas", "devices", "comfyui", "console") as listeners:
        yield listeners


@pytest.fixture
async def oas_http(served: Listeners) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.urls["oas"], timeout=10) as http:
        yield http


@pytest.fixture
async def comfy_http(served: Listeners) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.urls["comfyui"], timeout=10) as http:
        yield http


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_an_operator_watches_the_fleet_live(
    runtime: Runtime,
    served: Listeners,
    oas_http: httpx.AsyncClient,
    comfy_http: httpx.AsyncClient,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    chromium = require_executable("chromium", "Chromium")
    urls = served.urls
    oas = OasWorld(oas_http, clock)
    comfy = ComfyWorld(comfy_http, runtime, clock)
    manager = await oas.manager()
    user = await oas.user(manager)

    release = asyncio.Event()

    async def signin(run: TaskRun) -> TaskOutcome:
        run.log("开始签到")
        await release.wait()
        run.log("签到成功")
        return TaskOutcome(True, "签到完成")

    async def delist(_task: Task) -> dict[str, Any]:
        return {"message": "下架完成"}

    await comfy.agent("gpu-1", base_url="http://127.0.0.1:9")
    await comfy.agent("gpu-2", base_url="http://127.0.0.1:9")  # nothing listens there: unreachable
    token = await comfy.agent_token("gpu-1")
    comfy_agent = ComfyuiAgent(
        AgentConfig(
            agent_id="gpu-1",
            platform_url=urls["comfyui"],
            comfy_root=tmp_path / "ComfyUI",
            agent_token=token,
            port=0,
            heartbeat_interval=3600,
        )
    )
    errors: list[str] = []
    async with (
        OasAgentClient(urls["oas"], username="mgr1", password="secret123", node_id="PC-1") as client,
        JobPoller(client, handlers={"signin": signin}, poll_interval=0.05) as _poller,
        DeviceClient(urls["devices"], device_id="phone-1", device_name="测试手机") as device,
        comfy_agent as running_comfy,
    ):
        device.task("DELIST")(delist)
        patched = await comfy_http.patch(
            "/api/agent/operator/agents/gpu-1", json={"base_url": running_comfy.url}, headers=comfy.admin
        )
        assert patched.status_code == 200, patched.text
        await running_comfy.heartbeat_once()

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            page = await context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            # Log in; the fleet shows an agent of every protocol.
            await page.goto(urls["console"] + "/")
            await page.fill("#username", "root")
            await page.fill("#password", "rootpass123")
            await page.click("#login-btn")
            await expect(page.locator("#whoami")).to_have_text("root", timeout=WAIT)
            await expect(page.locator("#live")).to_have_text("live", timeout=WAIT)
            for key in ("oas/PC-1", "devices/phone-1", "comfyui/gpu-1"):
                row = page.locator(f'#fleet-table tr[data-node="{key}"]')
                await expect(row.locator(".state")).to_contain_text("online", timeout=WAIT)
            await expect(page.locator('#fleet-table tr[data-node="devices/phone-1"] .load')).to_have_text(
                "0/3 tasks"
            )
            await expect(page.locator('.spark[data-protocol="oas"]')).to_be_visible()
            await shot(page, "1-fleet")

            # Disable the Oas agent from its page: a job for its manager now waits, and says why.
            await page.click('#fleet-table tr[data-node="oas/PC-1"] a')
            await page.click("#disable-btn")
            await expect(page.locator("#enable-btn")).to_be_visible(timeout=WAIT)
            await page.evaluate("window.notReloaded = true")
            await page.click("#nav-jobs")
            job = await oas.job(manager, user["id"], "signin")
            row = page.locator(f'#jobs-table tr[data-job="{job["ID"]}"]')
            await expect(row.locator(".status")).to_have_text("pending", timeout=WAIT)
            await row.locator("a").first.click()
            await expect(page.locator("#job-why")).to_contain_text(
                "every eligible agent online is disabled by an operator: PC-1 (by root)", timeout=WAIT
            )
            await shot(page, "2-job-pending-why")

            # Enable it from a second tab; the first tab's job page follows the job live.
            other = await context.new_page()
            other.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            await other.goto(urls["console"] + "/#/nodes/oas/PC-1")
            await other.click("#enable-btn")
            await expect(other.locator("#disable-btn")).to_be_visible(timeout=WAIT)
            await other.close()  # its live page would fetch on after the logout below (and get 401s)
            await expect(page.locator("#job-status")).to_have_text("running", timeout=WAIT)
            await shot(page, "3-job-running")
            release.set()
            await expect(page.locator("#job-status")).to_have_text("success", timeout=WAIT)
            for event in ("created", "leased", "start", "success"):
                await expect(page.locator(f'#job-events tr[data-event="{event}"]')).to_have_count(1)
            await expect(page.locator("#job-logs")).to_contain_text("签到成功", timeout=WAIT)
            assert await page.evaluate("window.notReloaded") is True
            await shot(page, "4-job-success-events-logs")

            # A ComfyUI task for an agent that cannot be reached: why it waits, then cancel it.
            manifest = await comfy.manifest(name="sdxl")
            task = await comfy.task("gpu-2", manifest["id"])
            await page.click("#nav-jobs")
            await page.select_option("#jobs-protocol", "comfyui")
            comfy_row = page.locator("#jobs-table tr", has_text="comfyui.task").first
            await expect(comfy_row.locator(".status")).to_have_text("pending", timeout=WAIT)
            await comfy_row.locator("a").first.click()
            await expect(page.locator("#job-why")).to_contain_text(
                "ComfyUI agent gpu-2 unreachable since", timeout=WAIT
            )
            await shot(page, "5-comfyui-why")
            await page.click("#cancel-btn")
            await expect(page.locator("#cancel-btn")).to_have_text("Confirm cancel")
            await page.click("#cancel-btn")
            await expect(page.locator("#job-status")).to_have_text("cancelled", timeout=WAIT)
            await expect(page.locator('#job-events tr[data-event="cancelled"]')).to_contain_text("root")
            assert (await comfy.task_view(task["id"]))["status"] in ("cancelled", "canceled", "failed")
            await shot(page, "6-comfyui-cancelled")

            await page.click("#logout-btn")
            await expect(page.locator("#login-form")).to_be_visible()
            await context.close()
            await browser.close()
    assert errors == []
