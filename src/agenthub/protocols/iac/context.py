"""The IaC platform's state, built once per runtime: repository, credentials, task operations, the C&C hub
and the dispatcher; and the `Annotated` dependencies route handlers take from it."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request, WebSocket

from agenthub.protocols.iac.agent_tasks import AgentTasks
from agenthub.protocols.iac.control import ControlHub
from agenthub.protocols.iac.dispatcher import Dispatcher
from agenthub.protocols.iac.repository import IacRepository
from agenthub.protocols.iac.security import Caller, Credentials, require_admin
from agenthub.protocols.iac.service import IacTasks
from agenthub.protocols.iac.settings import IacSettings
from agenthub.server.runtime import ConfigurationError, Runtime
from agenthub.storage.tables import server_values
from agenthub.storage.upsert import insert_for

log = logging.getLogger(__name__)


class IacState:
    def __init__(self, runtime: Runtime, settings: IacSettings, *, admin_key: str) -> None:
        self.runtime = runtime
        self.settings = settings
        self.admin_key = admin_key
        self.repo = IacRepository(runtime.db)
        self.credentials = Credentials(self.repo, cache_seconds=settings.credential_cache_seconds)
        self.tasks = IacTasks(runtime.engine, runtime.bus, self.repo, settings)
        self.agent_tasks = AgentTasks(self.tasks)
        self.hub = ControlHub(
            self.agent_tasks,
            silence=timedelta(seconds=settings.heartbeat_timeout_seconds),
            wake=lambda: self.dispatcher.wake(),
        )
        self.dispatcher = Dispatcher(
            self.tasks, self.hub, fallback_seconds=settings.dispatch_fallback_seconds
        )


async def open_state(runtime: Runtime, settings: IacSettings) -> IacState:
    admin_key = await _admin_key(runtime, settings)
    return IacState(runtime, settings, admin_key=admin_key)


async def _admin_key(runtime: Runtime, settings: IacSettings) -> str:
    configured = settings.admin_key
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    if runtime.settings.is_production:
        raise ConfigurationError("AGENTHUB_IAC_ADMIN_KEY must be set when AGENTHUB_ENV=production")
    # Development: generate once and keep it in the database, so restarts and replicas agree.
    db = runtime.db
    stmt = insert_for(db.dialect, server_values).values(key="iac_admin_key", value=secrets.token_urlsafe(32))
    async with db.write() as conn:
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
        query = sa.select(server_values.c.value).where(server_values.c.key == "iac_admin_key")
        value = str((await conn.execute(query)).scalar_one())
    log.warning("iac operator key (development, generated): X-Admin-Key: %s", value)
    return value


def state_of(request: Request) -> IacState:
    state: IacState = request.app.state.iac
    return state


async def _state(request: Request) -> IacState:
    # async, as every dependency here: FastAPI runs a plain `def` one in its thread pool.
    return state_of(request)


async def _agent_caller(request: Request) -> Caller:
    state = state_of(request)
    return await state.credentials.caller(request.headers, request.path_params.get("agent_id"))


async def _admin(request: Request) -> None:
    state = state_of(request)
    require_admin(request.headers.get("x-admin-key"), state.admin_key)


def ws_state(websocket: WebSocket) -> IacState:
    state: IacState = websocket.app.state.iac
    return state


Iac = Annotated[IacState, Depends(_state)]
CurrentAgent = Annotated[Caller, Depends(_agent_caller)]
Admin = Depends(_admin)
