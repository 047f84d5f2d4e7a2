"""The user's login: users (game accounts) log in with their account number alone, as the original does."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.schemas import UserLoginIn
from agenthub.protocols.oas.security import LoginAttempt, Principal, issue

router = APIRouter(prefix="/api/v1/user")


@router.post("/auth/login", dependencies=[LoginAttempt])
async def login(body: UserLoginIn, oas: Oas) -> dict[str, Any]:
    user = await oas.users.user_by_account_no(account_no=body.account_no)
    if user is None:
        raise OasError(401, "账号不存在")
    if user.status == "disabled" or user.expires_at is None:
        raise OasError(403, "用户账号未激活")
    if user.status == "expired" or user.expires_at <= oas.now():
        raise OasError(403, "用户账号已过期")
    principal = Principal(role="user", subject_id=user.id, manager_id=user.manager_id)
    token = issue(oas.runtime, principal, ttl_seconds=oas.settings.operator_token_ttl_seconds)
    return {"token": token, "user": user.to_wire()}
