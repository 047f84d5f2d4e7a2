"""The agents' job calls answered by the fast path (fast_path.py) are answered as FastAPI answers them:
same status, same headers that matter, same bytes, for successes, refusals and bodies it hands on."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from agenthub.protocols.oas.fast_path import AgentFastPath
from agenthub.protocols.oas.spec import SPEC as OAS
from agenthub.server.runtime import Runtime
from tests.integration.oas.conftest import Agent, OasWorld

Client = httpx.AsyncClient


@pytest.fixture
async def both(world: OasWorld, runtime: Runtime) -> AsyncIterator[tuple[Client, Client]]:
    """The Oas app as served (fast path in front) and the bare FastAPI app behind it, on the same state."""
    served: Any = OAS.create_app(OAS.state_of(runtime))
    fast = served.app
    assert isinstance(fast, AgentFastPath)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=served), base_url="http://oas") as with_fast,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fast.app), base_url="http://oas") as plain,
    ):
        yield with_fast, plain


def same(a: httpx.Response, b: httpx.Response, *, ids: Callable[[str], str] = lambda text: text) -> None:
    assert a.status_code == b.status_code, (a.text, b.text)
    for header in ("content-type", "content-length"):
        assert a.headers.get(header) == b.headers.get(header), header
    assert ids(a.text) == ids(b.text)


async def call(client: Client, agent: Agent, path: str, body: Any, **headers: str) -> httpx.Response:
    """POSTs the body as JSON (bytes: as they are, labelled JSON)."""
    headers = {"Content-Type": "application/json", **agent.headers, **headers}
    if isinstance(body, bytes):
        return await client.post(f"/api/v1/agent{path}", content=body, headers=headers)
    return await client.post(f"/api/v1/agent{path}", json=body, headers=headers)


async def test_polls_and_reports_answer_alike(world: OasWorld, both: tuple[Client, Client]) -> None:
    fast, plain = both
    manager = await world.manager()
    agent = await world.agent(manager)
    user = await world.user(manager)
    poll = {"node_id": agent.node_id, "limit": 10, "lease_seconds": 90}
    same(await call(fast, agent, "/poll-jobs", poll), await call(plain, agent, "/poll-jobs", poll))  # empty

    leased: dict[str, list[httpx.Response]] = {}
    for client in (fast, plain):
        await world.job(manager, user["id"], "signin", payload={"note": "签到", "ratio": 0.5})
        leased.setdefault("poll", []).append(await call(client, agent, "/poll-jobs", poll))
    numbered = re.compile(r'"ID":\d+')
    same(*leased["poll"], ids=lambda text: numbered.sub('"ID":_', text))

    job_ids = [response.json()["jobs"][0]["ID"] for response in leased["poll"]]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("start", {"lease_seconds": 90, "message": "go"}),
        ("heartbeat", {"lease_seconds": 90}),
        ("complete", {"message": "ok", "result": {"account_status": "active"}}),
        ("complete", {"message": "again"}),  # no longer held: the lease refusal
    ]
    for action, fields in steps:
        body = {"node_id": agent.node_id, **fields}
        same(
            await call(fast, agent, f"/jobs/{job_ids[0]}/{action}", body),
            await call(plain, agent, f"/jobs/{job_ids[1]}/{action}", body),
        )


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/poll-jobs", {"node_id": "LAPTOP-ABC-1234"}, {"Authorization": "Bearer nonsense"}),
        ("/poll-jobs", {"node_id": "LAPTOP-ABC-1234"}, {"Authorization": ""}),
        ("/poll-jobs", {"node_id": "ANOTHER-NODE-1"}, {}),  # not the token's node
        ("/poll-jobs", {"node_id": "LAPTOP-ABC-1234", "limit": "many"}, {}),  # does not validate
        ("/poll-jobs", {"limit": 5}, {}),  # no node_id
        ("/poll-jobs", [1, 2], {}),
        ("/poll-jobs", b'{"node_id": "LAPTOP-ABC-1234", "limit": NaN}', {}),  # JSON's NaN extension
        ("/jobs/1/complete", {"node_id": "LAPTOP-ABC-1234", "result": {"n": 10**30}}, {}),
        ("/poll-jobs", {"node_id": "LAPTOP-ABC-1234"}, {"Content-Type": "text/plain"}),
        ("/jobs/999999/start", {"node_id": "LAPTOP-ABC-1234"}, {}),  # no such job
        ("/jobs/0042/complete", {"node_id": "LAPTOP-ABC-1234"}, {}),  # leading zeros: FastAPI's parsing
        ("/jobs/12x/complete", {"node_id": "LAPTOP-ABC-1234"}, {}),
        ("/jobs/99999999999999999999/fail", {"node_id": "LAPTOP-ABC-1234"}, {}),
        ("/jobs/1/finish", {"node_id": "LAPTOP-ABC-1234"}, {}),  # no such call
        ("/jobs/1/fail", {"node_id": "LAPTOP-ABC-1234", "result": "not an object"}, {}),
    ],
)
async def test_refusals_answer_alike(
    world: OasWorld, both: tuple[Client, Client], path: str, body: Any, headers: dict[str, str]
) -> None:
    fast, plain = both
    agent = await world.agent(await world.manager())
    answers = [await call(client, agent, path, body, **headers) for client in (fast, plain)]
    assert answers[0].status_code >= 400
    same(*answers)


async def test_a_manager_token_or_an_expired_manager_is_refused_alike(
    world: OasWorld, both: tuple[Client, Client], runtime: Runtime
) -> None:
    fast, plain = both
    manager = await world.manager(expires_in=timedelta(hours=1))
    agent = await world.agent(manager)
    as_manager = Agent(token=manager["token"], node_id=agent.node_id, manager_id=manager["id"])
    poll = {"node_id": agent.node_id}
    same(await call(fast, as_manager, "/poll-jobs", poll), await call(plain, as_manager, "/poll-jobs", poll))
    world.clock.advance(hours=2)  # the manager's account expires
    answers = [await call(client, agent, "/poll-jobs", poll) for client in (fast, plain)]
    assert answers[0].status_code == 403
    same(*answers)


async def test_the_fast_path_takes_the_job_calls_and_nothing_else(oas_url: str, runtime: Runtime) -> None:
    served: Any = OAS.create_app(OAS.state_of(runtime))
    fast = served.app
    assert isinstance(fast, AgentFastPath)
    taken = {
        ("POST", "/api/v1/agent/poll-jobs"): None,
        ("POST", "/api/v1/agent/jobs/5/start"): 5,
        ("POST", "/api/v1/agent/jobs/5/heartbeat"): 5,
        ("POST", "/api/v1/agent/jobs/123456789012345678/complete"): 123456789012345678,
        ("POST", "/api/v1/agent/jobs/0/fail"): 0,
    }
    for (method, path), job_id in taken.items():
        matched = fast.match(method, path)
        assert matched is not None and matched[1] == job_id, path
    for method, path in [
        ("GET", "/api/v1/agent/poll-jobs"),
        ("POST", "/api/v1/agent/poll-jobs/"),
        ("POST", "/api/v1/agent/auth/login"),
        ("POST", "/api/v1/agent/jobs/05/start"),
        ("POST", "/api/v1/agent/jobs/-5/start"),
        ("POST", "/api/v1/agent/jobs/٥/start"),  # a digit, but not an ASCII one
        ("POST", "/api/v1/agent/jobs/5/start/"),
        ("POST", "/api/v1/agent/jobs//start"),
        ("PATCH", "/api/v1/agent/jobs/5/complete"),
    ]:
        assert fast.match(method, path) is None, path
