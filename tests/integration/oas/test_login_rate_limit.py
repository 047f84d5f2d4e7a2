"""Issue 9: refused logins are limited per client address on every Oas login endpoint (10 per minute by
default), answered 429 with `Retry-After`; the window runs on the injected clock."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.oas.conftest import OasWorld

TOO_MANY = {"detail": "登录尝试过于频繁，请稍后再试"}
WRONG = [
    ("/api/v1/agent/auth/login", {"username": "mgr1", "password": "wrong-pass", "node_id": "NODE-1"}),
    ("/api/v1/manager/auth/login", {"username": "mgr1", "password": "wrong-pass"}),
    ("/api/v1/super/auth/login", {"username": "root", "password": "wrong-pass"}),
    ("/api/v1/user/auth/login", {"account_no": "GUESS0000001"}),
]


@pytest.mark.parametrize(("path", "body"), WRONG)
async def test_refused_logins_are_limited_per_address(
    world: OasWorld, oas_url: str, path: str, body: dict[str, str]
) -> None:
    manager = await world.manager()
    for _ in range(10):
        r = await world.http.post(path, json=body)
        assert r.status_code == 401, r.text
    r = await world.http.post(path, json=body)
    assert (r.status_code, r.json()) == (429, TOO_MANY)
    assert r.headers["Retry-After"] == "60"
    # Every login endpoint is closed to this address now, even with the right password...
    r = await world.http.post(
        "/api/v1/manager/auth/login", json={"username": "mgr1", "password": "secret123"}
    )
    assert r.status_code == 429
    # ...but not to another address.
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=oas_url, transport=transport, timeout=30) as other:
        r = await other.post("/api/v1/manager/auth/login", json={"username": "mgr1", "password": "secret123"})
        assert r.status_code == 200, r.text
    world.clock.advance(seconds=30)
    r = await world.http.post(path, json=body)
    assert (r.status_code, r.headers["Retry-After"]) == (429, "30")
    world.clock.advance(seconds=30)
    r = await world.http.post(
        "/api/v1/agent/auth/login", json={"username": "mgr1", "password": "secret123", "node_id": "NODE-1"}
    )
    assert r.status_code == 200, r.text
    assert manager["id"] == r.json()["manager_id"]


async def test_successful_logins_are_not_limited(world: OasWorld) -> None:
    manager = await world.manager()
    for i in range(30):  # e.g. a fleet of agents behind one address, logging in after a restart
        await world.agent(manager, node_id=f"NODE-{i:03d}")
