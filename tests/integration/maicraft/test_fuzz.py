"""The Maicraft API under hostile input (no game behind it): every route of its OpenAPI schema never answers
5xx other than the seed's 503 for an unreachable game, and every error is the seed's envelope."""

from __future__ import annotations

import httpx

from tests.support.fuzz import fuzz


def maicraft_error(response: httpx.Response) -> None:
    body = response.json()
    assert body["success"] is False and body["code"] == "ERROR", body
    assert body["error_code"] and body["message"], body


async def test_hostile_requests_never_get_a_5xx(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    # Game endpoints answer 503 CONNECTION_ERROR while no MCP server runs: the seed's answer, not a crash.
    sent = await fuzz(http, schema, check_error=maicraft_error, allowed_5xx={503})
    assert sent > 100
