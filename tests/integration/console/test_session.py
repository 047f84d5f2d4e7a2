"""Login with the Oas super admin, a session cookie that is HttpOnly and SameSite=Strict, expiry, logout."""

from __future__ import annotations

import httpx

from agenthub.core.clock import ManualClock
from tests.integration.console.conftest import SUPER


async def test_login_sets_a_strict_httponly_cookie_and_no_token_in_the_body(console_url: str) -> None:
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await http.get("/api/me")).json() == {"username": None, "expires_at": None}
        assert (await http.get("/api/fleet")).status_code == 401
        response = await http.post("/api/login", json=SUPER)
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        token = http.cookies["agenthub_console"]
        assert token not in response.text
        assert (await http.get("/api/me")).json()["username"] == "root"
        assert (await http.get("/api/fleet")).status_code == 200


async def test_wrong_credentials_are_refused(console_url: str) -> None:
    async with httpx.AsyncClient(base_url=console_url) as http:
        for body in ({"username": "root", "password": "nope"}, {"username": "ghost", "password": "x"}):
            response = await http.post("/api/login", json=body)
            assert response.status_code == 401
            assert response.json()["error"] == "BAD_CREDENTIALS"
            assert "agenthub_console" not in http.cookies


async def test_a_session_expires(console_url: str, clock: ManualClock) -> None:
    async with httpx.AsyncClient(base_url=console_url) as http:
        await http.post("/api/login", json=SUPER)
        clock.advance(minutes=59)
        assert (await http.get("/api/jobs")).status_code == 200
        clock.advance(minutes=1)
        response = await http.get("/api/jobs")
        assert response.status_code == 401
        assert response.json()["error"] == "NOT_LOGGED_IN"


async def test_logout_ends_the_session(console_url: str) -> None:
    async with httpx.AsyncClient(base_url=console_url) as http:
        await http.post("/api/login", json=SUPER)
        assert (await http.post("/api/logout")).status_code == 200
        assert "agenthub_console" not in http.cookies
        assert (await http.get("/api/fleet")).status_code == 401


async def test_a_forged_or_foreign_token_is_refused(console_url: str) -> None:
    async with httpx.AsyncClient(base_url=console_url, cookies={"agenthub_console": "a.b.c"}) as http:
        assert (await http.get("/api/fleet")).status_code == 401


async def test_metrics_are_on_the_console_port_without_a_login(console_url: str) -> None:
    async with httpx.AsyncClient(base_url=console_url) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert "agenthub_jobs" in response.text
