"""Who is calling: application credentials (`X-App-Key` + `X-App-Secret`), the agent they speak for
(`X-Agent-ID` or the path's agent id), and the operator's `X-Admin-Key`.

Secrets are random 256-bit strings stored as sha256 (a slow hash adds nothing against guessing one) and
compared in constant time. A verified application is kept for a few seconds, so an agent's stream of log
chunks costs no extra database read per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from agenthub.protocols.iac.errors import Forbidden, Unauthorized
from agenthub.protocols.iac.records import AgentRecord, Application
from agenthub.protocols.iac.repository import IacRepository

MISSING_CREDENTIALS = "missing application credentials"
BAD_CREDENTIALS = "invalid application credentials"
FOREIGN_AGENT = "agent not found or does not belong to this application"


def new_app_key() -> str:
    return "ak-" + secrets.token_hex(16)


def new_app_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    application_id: int
    agent_id: str


class Credentials:
    def __init__(self, repo: IacRepository, *, cache_seconds: float) -> None:
        self._repo = repo
        self._ttl = cache_seconds
        self._apps: dict[str, tuple[Application, float]] = {}
        self._agents: dict[str, tuple[AgentRecord, float]] = {}

    async def application(self, headers: Mapping[str, str]) -> Application:
        key, secret = headers.get("x-app-key", ""), headers.get("x-app-secret", "")
        if not key or not secret:
            raise Unauthorized(MISSING_CREDENTIALS)
        app = await self._application(key)
        if app is None or not hmac.compare_digest(hash_secret(secret), app.secret_hash):
            raise Unauthorized(BAD_CREDENTIALS)
        return app

    async def caller(self, headers: Mapping[str, str], agent_id: str | None) -> Caller:
        """The application, then the agent it speaks for (401 before 403, as the original)."""
        app = await self.application(headers)
        agent_id = agent_id or headers.get("x-agent-id", "")
        if not agent_id:
            raise Unauthorized("missing agent id")
        agent = await self._agent(agent_id)
        if agent is None or agent.application_id != app.id:
            raise Forbidden(FOREIGN_AGENT)
        return Caller(application_id=app.id, agent_id=agent.agent_id)

    async def _application(self, key: str) -> Application | None:
        cached = self._apps.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        app = await self._repo.application_by_key(key)
        if app is not None:
            self._apps[key] = (app, time.monotonic() + self._ttl)
        return app

    async def _agent(self, agent_id: str) -> AgentRecord | None:
        cached = self._agents.get(agent_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        agent = await self._repo.agent(agent_id)
        if agent is not None:
            self._agents[agent_id] = (agent, time.monotonic() + self._ttl)
        return agent


def require_admin(given: str | None, admin_key: str) -> None:
    if not given or not hmac.compare_digest(given.encode(), admin_key.encode()):
        raise Unauthorized("admin key required")
