"""First run from the browser: with no super admin configured (`super_from_browser`), /bootstrap/status says
so, /bootstrap/init sets the first one up once, and every later init is refused."""

from __future__ import annotations

import asyncio

import pytest

from agenthub.protocols.oas.settings import OasSettings
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.integration.oas.conftest import OasWorld


@pytest.fixture
def settings(database_url: str) -> Settings:
    made = make_settings(database_url)
    made.protocols["oas"] = OasSettings(super_from_browser=True, scheduler_enabled=False)
    return made


async def test_the_first_super_admin_is_set_up_from_the_browser_once(world: OasWorld) -> None:
    status = (await world.http.get("/api/v1/bootstrap/status")).json()
    assert status["initialized"] is False and status["data"]["initialized"] is False
    r = await world.http.post("/api/v1/bootstrap/init", json={"username": "ab", "password": "short"})
    assert r.status_code == 400

    # Two first runs racing: exactly one wins.
    racing = await asyncio.gather(
        world.http.post("/api/v1/bootstrap/init", json={"username": "first", "password": "firstpass1"}),
        world.http.post("/api/v1/bootstrap/init", json={"username": "second", "password": "secondpass2"}),
    )
    assert sorted(r.status_code for r in racing) == [201, 409]
    winner = next(name for name, r in zip(("first", "second"), racing, strict=True) if r.status_code == 201)
    password = {"first": "firstpass1", "second": "secondpass2"}[winner]

    assert (await world.http.get("/api/v1/bootstrap/status")).json()["initialized"] is True
    r = await world.http.post("/api/v1/bootstrap/init", json={"username": "late", "password": "latepass1"})
    assert (r.status_code, r.json()) == (409, {"detail": "系统已初始化"})
    login = await world.http.post("/api/v1/super/auth/login", json={"username": winner, "password": password})
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    logs = (await world.http.get("/api/v1/super/audit-logs", headers=headers)).json()["items"]
    init = [e for e in logs if e["action"] == "POST /bootstrap/init"]
    assert len(init) == 1 and init[0]["actor_type"] == "super"
