"""ComfyUI under hostile input: every route of its OpenAPI schema, with valid credentials so requests get past
authentication, never answers 5xx, and every error is `{"detail": "AGENT_..."}`."""

from __future__ import annotations

import httpx

from tests.integration.comfyui.conftest import ADMIN_KEY, ComfyWorld
from tests.support.fuzz import fuzz


def comfyui_error(response: httpx.Response) -> None:
    body = response.json()
    assert isinstance(body, dict) and str(body.get("detail", "")).startswith("AGENT_"), body


async def test_hostile_requests_never_get_a_5xx(world: ComfyWorld, http: httpx.AsyncClient) -> None:
    await world.agent("gpu-1")
    schema = (await http.get("/openapi.json")).json()
    http.headers.update({"X-Admin-Key": ADMIN_KEY, "Authorization": "Bearer dbg-token"})
    sent = await fuzz(http, schema, check_error=comfyui_error)
    assert sent > 100
