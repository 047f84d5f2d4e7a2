"""Issue 9 repros: integers beyond 64 bits, NUL characters, dates past year 9999 and odd lease lengths get a
4xx `{"detail": ...}` (or are stored safely), never a 500, and the keep-alive connection keeps serving."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.oas.conftest import OasWorld, parse_time

BIG = 9223372036854775808


async def two_requests_on_one_connection(
    base_url: str, first: tuple[str, str, dict[str, str], bytes], then: str, headers: dict[str, str]
) -> tuple[int, dict[str, Any], int]:
    """Sends `first` and then `GET then` on the same TCP connection (HTTP/1.1 keep-alive); returns the first
    status and body and the second status. A server that drops the connection after the first fails this."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:

        async def send(method: str, path: str, extra: dict[str, str], body: bytes) -> tuple[int, bytes]:
            lines = [f"{method} {path} HTTP/1.1", f"Host: {url.netloc}", f"Content-Length: {len(body)}"]
            lines += [f"{k}: {v}" for k, v in {**headers, **extra}.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            return status, await asyncio.wait_for(reader.readexactly(length), 30)

        status, body = await send(*first)
        second, _ = await send("GET", then, {}, b"")
        return status, json.loads(body), second
    finally:
        writer.close()


async def test_integers_beyond_64_bits_are_4xx_and_the_connection_survives(world: OasWorld) -> None:
    manager = await world.manager()
    user = await world.user(manager)
    headers = {**manager["headers"], "Content-Type": "application/json"}
    job = json.dumps({"user_id": BIG, "task_type": "signin"}).encode()
    cases: list[tuple[str, str, dict[str, str], bytes]] = [
        ("GET", f"/api/v1/manager/users/{BIG}", {}, b""),
        ("GET", "/api/v1/manager/users?page=99999999999999999999", {}, b""),
        ("GET", "/api/v1/manager/jobs?page=99999999999999999999", {}, b""),
        ("GET", f"/api/v1/manager/users/{user['id']}/logs?page=99999999999999999999", {}, b""),
        ("POST", "/api/v1/manager/jobs", {}, job),
        ("GET", f"/api/v1/manager/jobs/{BIG}/events", {}, b""),
    ]
    for case in cases:
        status, body, after = await two_requests_on_one_connection(
            str(world.http.base_url), case, "/api/v1/manager/overview", headers
        )
        assert status in (400, 404), (case, status, body)
        assert isinstance(body.get("detail"), str) and body["detail"], (case, body)
        assert after == 200, case


async def test_agent_routes_refuse_integers_beyond_64_bits(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    for path in (f"/api/v1/agent/users/{BIG}/full-config",):
        r = await world.http.get(path, headers=agent.headers)
        assert r.status_code in (400, 404) and r.json()["detail"], r.text
    for action in ("start", "heartbeat", "complete", "fail"):
        r = await world.report(agent, BIG, action)
        assert r.status_code in (400, 404) and r.json()["detail"], r.text
    r = await world.http.post(
        "/api/v1/agent/poll-jobs", json={"node_id": agent.node_id, "limit": BIG}, headers=agent.headers
    )
    assert r.status_code in (200, 400), r.text


async def test_a_nul_in_an_account_number_is_a_400(world: OasWorld) -> None:
    r = await world.http.post("/api/v1/user/auth/login", json={"account_no": "A\u0000"})
    assert r.status_code == 400
    assert "NUL" in r.json()["detail"]


async def test_a_nul_in_a_log_message_is_stored_safely_and_the_batch_is_kept(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    logs = [
        {"type": "signin", "level": "INFO", "message": "before"},
        {"type": "signin", "level": "INFO", "message": "bad\u0000byte"},
        {"type": "signin", "level": "INFO", "message": "after"},
    ]
    r = await world.http.post(
        f"/api/v1/agent/users/{user['id']}/logs", json={"logs": logs}, headers=agent.headers
    )
    assert r.status_code == 200, r.text
    stored = await world.http.get(f"/api/v1/manager/users/{user['id']}/logs", headers=manager["headers"])
    messages = sorted(e["message"] for e in stored.json()["data"]["items"])
    assert messages == ["after", "bad\ufffdbyte", "before"]


async def test_a_nul_in_a_log_type_refuses_the_batch_loudly(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    logs = [{"type": "sign\u0000in", "level": "INFO", "message": "x"}]
    r = await world.http.post(
        f"/api/v1/agent/users/{user['id']}/logs", json={"logs": logs}, headers=agent.headers
    )
    assert r.status_code == 400 and "NUL" in r.json()["detail"]


async def test_a_nul_in_a_reported_result_does_not_block_the_report(world: OasWorld) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    job = await world.job(manager, user["id"])
    await world.poll(agent)
    r = await world.report(
        agent,
        job["ID"],
        "complete",
        message="done\u0000",
        result={"login_id": "a\u0000b", "assets": {"gold\u0000": 1}},
    )
    assert r.status_code == 200, r.text
    view = await world.job_view(manager, job["ID"])
    assert view["Status"] == "success"
    assert view["Result"]["login_id"] == "a\ufffdb"


@pytest.mark.parametrize(
    "path", ["/api/v1/manager/users/{id}/lifecycle", "/api/v1/super/managers/{id}/lifecycle"]
)
async def test_a_date_past_year_9999_is_a_400(world: OasWorld, path: str) -> None:
    manager = await world.manager()
    user = await world.user(manager)
    if "super" in path:
        target, headers = manager["id"], {"Authorization": f"Bearer {await world.super_token()}"}
    else:
        target, headers = user["id"], manager["headers"]
    r = await world.http.patch(
        path.format(id=target),
        json={"expires_at": "9999-12-31T00:00:00Z", "extend_days": 30},
        headers=headers,
    )
    assert r.status_code == 400, r.text
    assert r.json()["detail"]
    r = await world.http.get("/api/v1/manager/overview", headers=manager["headers"])
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("asked", "granted"), [(1, 1), (0, 90), (-5, 90), (30, 30), (10**30, 366 * 24 * 3600)]
)
async def test_any_positive_lease_is_accepted_and_zero_or_less_means_the_default(
    world: OasWorld, asked: int, granted: int
) -> None:
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    job = await world.job(manager, user["id"])
    polled = await world.poll(agent, lease_seconds=asked)
    [leased] = polled["jobs"]
    assert leased["ID"] == job["ID"]
    until = leased["LeaseUntil"]
    assert (parse_time(until) - world.clock.now()).total_seconds() == granted
    r = await world.report(agent, job["ID"], "heartbeat", lease_seconds=asked)
    assert r.status_code == 200, r.text
