"""The devices HTTP API under hostile input: every route of its OpenAPI schema never answers 5xx, and every
error is the seed's `{"success": false, "message", "error_code"}`."""

from __future__ import annotations

import httpx

from tests.integration.devices.conftest import DeviceFactory
from tests.support.fuzz import fuzz


def devices_error(response: httpx.Response) -> None:
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"success", "message", "error_code"}, body
    assert body["success"] is False and body["message"] and body["error_code"], body


async def test_hostile_requests_never_get_a_5xx(device: DeviceFactory, http: httpx.AsyncClient) -> None:
    await device("android_001")  # so that well-formed dispatches get as far as the engine
    schema = (await http.get("/openapi.json")).json()
    assert "requestBody" in schema["paths"]["/api/dispatch-task"]["post"]
    sent = await fuzz(http, schema, check_error=devices_error, per_operation=24)
    assert sent > 100
    # A NUL in a device id: the same answer on every database.
    body = {"task_type": "DELIST", "data": {"product_ids": ["1"]}, "device_id": "a\x00"}
    r = await http.post("/api/dispatch-task", json=body)
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMS"
