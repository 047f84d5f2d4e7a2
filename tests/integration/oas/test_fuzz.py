"""Oas under hostile input: every route of its OpenAPI schema, called with a super admin's, a manager's, an
agent's or a user's token (whichever the route's prefix wants, so requests get past authentication), never
answers 5xx, and every error is `{"detail": "<readable text>"}`."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from tests.integration.oas.conftest import OasWorld
from tests.support.fuzz import fuzz


def oas_error(response: httpx.Response) -> None:
    body = response.json()
    assert isinstance(body, dict) and set(body) >= {"detail"}, body
    assert isinstance(body["detail"], str) and body["detail"], body


class RoleTokens(httpx.Auth):
    """Picks the bearer token by the route's role prefix."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        role = request.url.path.removeprefix("/api/v1/").split("/", 1)[0]
        if role in self.tokens:
            request.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        yield request


async def test_hostile_requests_never_get_a_5xx(world: OasWorld, oas_url: str) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    login = await world.http.post("/api/v1/user/auth/login", json={"account_no": user["account_no"]})
    tokens = {
        "super": await world.super_token(),
        "manager": manager["token"],
        "agent": agent.token,
        "user": login.json()["token"],
    }
    schema = (await world.http.get("/openapi.json")).json()
    # The user's and the agent's routes first: the operators' routes may delete the user or reset the
    # manager's password, after which those tokens are (rightly) refused and would test little.
    first = ("/api/v1/user/", "/api/v1/agent/")
    async with httpx.AsyncClient(base_url=oas_url, timeout=30, auth=RoleTokens(tokens)) as http:
        sent = await fuzz(
            http,
            schema,
            check_error=oas_error,
            per_operation=8,
            seed=9,
            skip=lambda _m, p: not p.startswith(first),
        )
        sent += await fuzz(
            http,
            schema,
            check_error=oas_error,
            per_operation=8,
            seed=9,
            skip=lambda _m, p: p.startswith(first),
        )
    assert sent > 400, sent
