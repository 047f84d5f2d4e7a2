"""Start-up: the first super admin, from AGENTHUB_SUPER_USERNAME / AGENTHUB_SUPER_PASSWORD or generated."""

from __future__ import annotations

import logging
import secrets

from agenthub.auth import hash_password
from agenthub.core.errors import Conflict
from agenthub.protocols.oas.managers_store import ManagersStore
from agenthub.protocols.oas.settings import OasSettings
from agenthub.server.runtime import ConfigurationError, Runtime

log = logging.getLogger(__name__)


async def ensure_super_admin(runtime: Runtime, settings: OasSettings) -> None:
    repo = ManagersStore(runtime.db)
    if await repo.super_admin_count() > 0:
        return
    username = settings.super_username or "admin"
    password = settings.super_password.get_secret_value() if settings.super_password else None
    generated = password is None
    if generated and settings.super_from_browser:
        return  # the first visitor of /bootstrap/init sets it up
    if generated and runtime.settings.is_production:
        raise ConfigurationError("set AGENTHUB_SUPER_PASSWORD for the first start in production")
    password = password or secrets.token_urlsafe(12)
    try:
        await repo.create_super_admin(
            username=username, password_hash=await hash_password(password), now=runtime.clock.now()
        )
    except Conflict:  # another replica created it first
        return
    if generated:
        print(
            f"agenthub: created super admin {username!r} with password {password!r} (shown once)", flush=True
        )
