"""The Oas super admins as operators of the whole server (the console logs them in): one read-only check."""

from __future__ import annotations

from agenthub.auth.passwords import verify_password
from agenthub.protocols.oas.managers_store import ManagersStore
from agenthub.storage.database import Database


async def is_super_admin(db: Database, *, username: str, password: str) -> bool:
    """True when the username names an Oas super admin and the password is theirs."""
    found = await ManagersStore(db).super_admin_hash(username=username)
    return found is not None and await verify_password(password, found[1])
