"""What manager and user routes do to a user: find it (theirs only), change its columns, write its tasks.
Raises domain errors (`UserNotFound`, `VersionMismatch`, `TaskConfigError`); the edge maps them."""

from __future__ import annotations

from typing import Any

from agenthub.core.clock import Clock
from agenthub.protocols.oas.accounts import Accounts
from agenthub.protocols.oas.errors import UserNotFound
from agenthub.protocols.oas.records import User
from agenthub.protocols.oas.task_config import apply_update
from agenthub.protocols.oas.users_store import UsersStore

STANDING_FIELDS = frozenset({"status", "expires_at"})  # what decides whether the user's token works


class UserService:
    def __init__(self, users: UsersStore, accounts: Accounts, *, clock: Clock) -> None:
        self.users = users
        self.accounts = accounts
        self.clock = clock

    async def own(self, *, user_id: int, manager_id: int | None = None) -> User:
        """The user, if it exists (and is the manager's, when one is named)."""
        user = await self.users.user(user_id=user_id, manager_id=manager_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

    async def update(self, *, user_id: int, manager_id: int | None = None, **values: Any) -> User:
        updated = await self.users.update_user(
            user_id=user_id, manager_id=manager_id, now=self.clock.now(), **values
        )
        if updated is None:
            raise UserNotFound(user_id)
        if STANDING_FIELDS.intersection(values):
            await self.accounts.changed("user", user_id)  # the user's token follows on its next request
        return updated

    async def delete(self, *, user_id: int, manager_id: int) -> None:
        if not await self.users.delete_user(user_id=user_id, manager_id=manager_id):
            raise UserNotFound(user_id)
        await self.accounts.changed("user", user_id)

    async def write_tasks(
        self,
        *,
        user_id: int,
        task_config: dict[str, Any],
        expected_version: int | None,
        manager_id: int | None = None,
    ) -> User:
        """Applies a task_config update (merged over what is stored) under the row lock."""
        now = self.clock.now()

        def change(user: User) -> dict[str, Any]:
            return apply_update(user.user_type, user.task_config, task_config, now=now)

        user = await self.users.change_task_config(
            user_id=user_id, change=change, now=now, manager_id=manager_id, expected_version=expected_version
        )
        if user is None:
            raise UserNotFound(user_id)
        return user
