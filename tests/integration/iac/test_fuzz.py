"""The IaC platform under hostile input: every route of its OpenAPI schema, with valid operator and agent
credentials so requests get past authentication, never answers 5xx, and every error is `{"error": "..."}`."""

from __future__ import annotations

import httpx

from tests.integration.iac.conftest import ADMIN_KEY, IacWorld
from tests.support.fuzz import fuzz


def iac_error(response: httpx.Response) -> None:
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body


async def test_hostile_requests_never_get_a_5xx(world: IacWorld) -> None:
    app = await world.application()
    await world.register("agent-1", app)
    await world.workspace(app)
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as http:
        schema = (await http.get("/openapi.json")).json()
        http.headers.update(
            {
                "X-Admin-Key": ADMIN_KEY,
                "X-App-Key": app["app_key"],
                "X-App-Secret": app["app_secret"],
                "X-Agent-ID": "agent-1",
            }
        )
        sent = await fuzz(http, schema, check_error=iac_error)
    assert sent > 100
