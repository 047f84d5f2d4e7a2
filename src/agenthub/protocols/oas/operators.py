"""The Oas super admins as operators of the whole server (the console logs them in): one read-only check."""

from __future__ import annotations

import functools

from agenthub.auth.passwords import hash_password_sync, verify_password
from agenthub.protocols.oas.managers_store import ManagersStore
from agenthub.storage.database import Database


async def is_super_admin(db: Database, *, username: str, password: str) -> bool:
    """True when the username names an Oas super admin and the password is theirs."""
    found = await ManagersStore(db).super_admin_hash(username=username)
    if found is None:
        await verify_password(password, _unknown_user_hash())  # as slow as a known name: names do not leak
        return False
    return await verify_password(password, found[1])


@functools.cache
def _unknown_user_hash() -> str:
    return hash_password_sync("no such super admin")
