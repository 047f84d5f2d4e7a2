"""The ComfyUI platform's shared state (keys, repository, agents, tasks, the pusher), built at start."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

import httpx
import sqlalchemy as sa
from fastapi import Depends, Request
from pydantic import SecretStr

from agenthub.protocols.comfyui.agents import ComfyuiAgents
from agenthub.protocols.comfyui.doorbell import Doorbell
from agenthub.protocols.comfyui.pushing import Pusher
from agenthub.protocols.comfyui.repository import ComfyuiRepository
from agenthub.protocols.comfyui.service import ComfyuiTasks
from agenthub.protocols.comfyui.settings import ComfyuiSettings
from agenthub.protocols.comfyui.tokens import TokenService, parse_debug_tokens, parse_keys
from agenthub.server.runtime import ConfigurationError, Runtime
from agenthub.storage.database import Database
from agenthub.storage.tables import server_values
from agenthub.storage.upsert import insert_for

log = logging.getLogger(__name__)


class ComfyuiContext:
    def __init__(
        self, runtime: Runtime, settings: ComfyuiSettings, *, keys: dict[str, str], admin_key: str
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        # Debug tokens are never honoured outside development, whatever the environment says.
        debug = {} if runtime.settings.is_production else parse_debug_tokens(self.settings.debug_tokens)
        self.tokens = TokenService(keys, debug_tokens=debug)
        self.admin_key = admin_key
        self.repo = ComfyuiRepository(runtime.db)
        self.agents = ComfyuiAgents(runtime.engine, self.repo)
        self.http = httpx.AsyncClient()
        doorbell = Doorbell()
        self.tasks = ComfyuiTasks(runtime, settings, self.repo, self.tokens, doorbell)
        self.pusher = Pusher(self.tasks, self.http, doorbell)

    def agent_token_ttl(self, requested: int | None) -> timedelta:
        seconds = requested or self.settings.agent_token_ttl_seconds
        return timedelta(seconds=min(seconds, self.settings.agent_token_max_ttl_seconds))

    async def close(self) -> None:
        await self.pusher.stop()
        await self.http.aclose()


async def open_context(runtime: Runtime, settings: ComfyuiSettings) -> ComfyuiContext:
    production = runtime.settings.is_production
    if production and settings.debug_tokens:
        raise ConfigurationError("AGENT_DEBUG_TOKENS must not be set when AGENTHUB_ENV=production")
    keys_text = await _secret(runtime.db, settings.signing_keys, "comfyui_signing_keys", production, _new_key)
    try:
        keys = parse_keys(keys_text)
    except ValueError as exc:
        raise ConfigurationError(f"AGENTHUB_COMFYUI_SIGNING_KEYS: {exc}") from exc
    admin_key = await _secret(runtime.db, settings.admin_key, "comfyui_admin_key", production, _new_admin)
    if settings.admin_key is None:
        log.warning("comfyui operator key (development, generated): X-Admin-Key: %s", admin_key)
    return ComfyuiContext(runtime, settings, keys=keys, admin_key=admin_key)


def _new_key() -> str:
    return f"dev-{secrets.token_hex(4)}:{secrets.token_urlsafe(48)}"


def _new_admin() -> str:
    return secrets.token_urlsafe(32)


async def _secret(
    db: Database, configured: SecretStr | None, name: str, production: bool, make: Callable[[], str]
) -> str:
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    if production:
        variable = "AGENTHUB_" + name.upper()
        raise ConfigurationError(f"{variable} must be set when AGENTHUB_ENV=production")
    # Development: generate once and keep it in the database, so restarts and replicas agree.
    stmt = insert_for(db.dialect, server_values).values(key=name, value=make())
    async with db.write() as conn:
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
        value = (
            await conn.execute(sa.select(server_values.c.value).where(server_values.c.key == name))
        ).scalar_one()
    return str(value)


async def _from_request(request: Request) -> ComfyuiContext:
    context: ComfyuiContext = request.app.state.comfyui
    return context


Comfy = Annotated[ComfyuiContext, Depends(_from_request)]
