"""The agents' job calls (poll-jobs, start, heartbeat, complete, fail) straight to their handlers.

These five make up nearly every request a busy fleet sends; through FastAPI the framework's work was about
half of the server's CPU per job (py-spy). This layer (see agenthub.server.fast_path) answers them itself,
calling the same handlers (routes_agent), the same authentication (security.authenticate) and the same body
models, and putting errors on the wire with the same error format.

Whatever it is not sure of goes to FastAPI unchanged, with the body it read handed on: another method or
path, a job id that is not a plain number, a body that is not JSON or does not validate. FastAPI then
answers exactly as it always did (its 422s, its order of checks), so the wire stays as the seed has it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from agenthub.protocols.oas import errors, routes_agent
from agenthub.protocols.oas.context import OasContext
from agenthub.protocols.oas.schemas import CompleteIn, FailIn, LeaseIn, PollJobsIn
from agenthub.protocols.oas.security import (
    Agent,
    AgentCall,
    AgentLease,
    agent_of,
    authenticate,
    same_node,
)
from agenthub.server.fast_path import header_values, read_body, replay, route_of

log = logging.getLogger(__name__)

PREFIX = "/api/v1/agent"
POLL_PATH = f"{PREFIX}/poll-jobs"
JOBS_PREFIX = f"{PREFIX}/jobs/"
MAX_JOB_ID_DIGITS = 18  # fits a 64-bit id; longer ones go to FastAPI, which answers them


@dataclass(frozen=True, slots=True)
class _Call:
    """One of the fast calls: its body model, its handler, and the route FastAPI would have matched (the
    metrics label requests by its template)."""

    model: type[BaseModel]
    route: APIRoute
    handle: Callable[[OasContext, Agent, int | None, Any], Awaitable[Response]]


async def _poll(oas: OasContext, agent: Agent, _job_id: int | None, body: Any) -> Response:
    return JSONResponse(await routes_agent.poll_jobs_reply(oas, AgentCall(agent=agent, body=body)))


def _on_job(
    work: Callable[[OasContext, AgentLease[Any]], Awaitable[None]],
) -> Callable[[OasContext, Agent, int | None, Any], Awaitable[Response]]:
    async def handle(oas: OasContext, agent: Agent, job_id: int | None, body: Any) -> Response:
        assert job_id is not None
        await work(oas, AgentLease(job_id=job_id, agent=agent, body=body))
        return Response(status_code=200)

    return handle


JOB_CALLS: dict[str, tuple[type[BaseModel], Callable[..., Awaitable[None]]]] = {
    "start": (LeaseIn, routes_agent.start_job),
    "heartbeat": (LeaseIn, routes_agent.heartbeat_job),
    "complete": (CompleteIn, routes_agent.complete_job),
    "fail": (FailIn, routes_agent.fail_job),
}


class AgentFastPath:
    def __init__(self, app: FastAPI, oas: OasContext) -> None:
        self.app = app
        self.oas = oas
        # The agent router's own routes (the app wraps included routers): their templates label metrics.
        router = routes_agent.router
        self._poll = _Call(PollJobsIn, route_of(router, POLL_PATH, "POST"), _poll)
        self._jobs = {
            action: _Call(model, route_of(router, f"{JOBS_PREFIX}{{job_id}}/{action}", "POST"), _on_job(work))
            for action, (model, work) in JOB_CALLS.items()
        }

    def match(self, method: str, path: str) -> tuple[_Call, int | None] | None:
        """The fast call a request is, with its job id; None for anything FastAPI should answer."""
        if method != "POST":
            return None
        if path == POLL_PATH:
            return self._poll, None
        if not path.startswith(JOBS_PREFIX):
            return None
        job_id, _, action = path[len(JOBS_PREFIX) :].partition("/")
        call = self._jobs.get(action)
        if call is None or not (job_id.isascii() and job_id.isdigit()) or len(job_id) > MAX_JOB_ID_DIGITS:
            return None
        if job_id != str(int(job_id)):  # leading zeros: FastAPI's business
            return None
        return call, int(job_id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self.match(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if matched is None:
            await self.app(scope, receive, send)
            return
        call, job_id = matched
        body, more = await read_body(receive)
        parsed = _parsed(scope, body, call.model) if not more else None
        if parsed is None:
            await self.app(scope, replay(body, more, receive), send)
            return
        scope["route"] = call.route
        try:
            response = await self._answer(scope, call, job_id, parsed)
        except Exception as exc:
            response = self._error(scope, exc)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, call: _Call, job_id: int | None, body: Any) -> Response:
        authorization = next(iter(header_values(scope, b"authorization")), "")
        principal = await authenticate(self.oas.runtime, self.oas.accounts, authorization, "agent")
        agent = same_node(agent_of(principal), body.node_id)
        return await call.handle(self.oas, agent, job_id, body)

    @staticmethod
    def _error(scope: Scope, exc: Exception) -> Response:
        if errors.FORMAT.lookup(type(exc)) is None:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
        return errors.FORMAT.response(exc)


def _parsed(scope: Scope, body: bytes, model: type[BaseModel]) -> Any:
    """The body as the model, if it is plainly JSON that validates; None sends the request to FastAPI."""
    for name, value in scope["headers"]:
        if name == b"content-type" and value.split(b";")[0].strip().lower() != b"application/json":
            return None
    try:
        # Parsed and validated in one pass; anything it refuses (not JSON, not an object, not valid) goes to
        # FastAPI, which answers it as it always has.
        return model.model_validate_json(body)
    except ValidationError:
        return None
