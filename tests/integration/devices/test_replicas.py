"""Two replicas on one database (either dialect) and one Redis bus: a device connected to one gets the
tasks dispatched through the other (pushed by the replica it is connected to), and its results count
everywhere."""

from __future__ import annotations

import uuid

import httpx
import pytest

from agenthub.core.clock import ManualClock
from agenthub.server.settings import Settings
from agenthub.server.startup import open_runtime
from tests.conftest import make_settings
from tests.integration.devices.conftest import FAST, Device, dispatch, eventually, task_status
from tests.support.servers import serving
from tests.support.services import require_redis


@pytest.fixture
def settings(database_url: str) -> Settings:
    settings = make_settings(database_url, redis_url=require_redis())
    settings.protocols["devices"] = FAST
    return settings


async def test_a_task_dispatched_on_one_replica_reaches_a_device_on_the_other(
    settings: Settings, clock: ManualClock
) -> None:
    device_id = f"replica_{uuid.uuid4().hex[:8]}"  # the Redis bus may be shared with other test runs
    async with (
        open_runtime(settings, clock=clock) as one,
        open_runtime(settings, clock=clock) as two,
        serving(one, "devices") as first,
        serving(two, "devices") as second,
        httpx.AsyncClient(base_url=first.urls["devices"], timeout=10) as http,
    ):
        dev = await Device(second.urls["devices"], device_id).connect()
        try:
            await dev.register()
            named = await dispatch(http, device_id=device_id)  # replica one never saw it register
            assert named["success"] is True and named["device_id"] == device_id
            pushed = await dev.next("new_task")
            assert pushed["task_id"] == named["task_id"]
            await dev.result(pushed["task_id"], processed_count=2)
            await dev.next("task_result_ack")
            assert (await task_status(http, named["task_id"]))["status"] == "completed"

            async def chosen_without_a_name() -> bool:
                reply = (
                    await http.post(
                        "/api/dispatch-task", json={"task_type": "DELIST", "data": {"product_ids": ["1"]}}
                    )
                ).json()
                return bool(reply.get("device_id") == device_id)

            await eventually(chosen_without_a_name, timeout=10)  # once replica one reads the fleet again
            task_id = (await dev.next("new_task"))["task_id"]
            assert (await http.post(f"/api/task/{task_id}/cancel")).status_code == 200
            assert (await dev.next("cancel_task"))["task_id"] == task_id
        finally:
            await dev.close()
