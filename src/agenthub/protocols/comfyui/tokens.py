"""Scoped agent tokens: HS256 JWTs with a `kid` header, so signing keys can be rotated.

The first configured key signs; every configured key verifies, so tokens signed with an older key keep
working until that key is removed. Times come from the injected clock.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt

from agenthub.auth.tokens import TokenError, TokenExpired, decode_token, issue_token
from agenthub.protocols.comfyui import errors

Scope = Literal["task", "agent"]
SCOPES = ("task", "agent")


@dataclass(frozen=True, slots=True)
class Claims:
    agent_id: str
    task_id: str | None
    scope: Scope
    nonce: str | None
    expires_at: datetime | None  # None: a debug token, which does not expire


@dataclass(frozen=True, slots=True)
class Issued:
    token: str
    nonce: str
    expires_at: datetime


def parse_keys(text: str) -> dict[str, str]:
    """`kid:secret,kid2:secret2` -> ordered {kid: secret}; the first one signs."""
    keys: dict[str, str] = {}
    for part in text.split(","):
        kid, sep, secret = part.strip().partition(":")
        if not part.strip():
            continue
        if not sep or not kid or not secret:
            raise ValueError("signing keys must be `kid:secret` pairs separated by commas")
        keys[kid] = secret
    if not keys:
        raise ValueError("no signing key configured")
    return keys


def parse_debug_tokens(text: str | None) -> dict[str, str]:
    """`token:agent_id,...` -> {token: agent_id}."""
    pairs: dict[str, str] = {}
    for part in (text or "").split(","):
        token, _, agent_id = part.strip().partition(":")
        if token and agent_id:
            pairs[token] = agent_id
    return pairs


class TokenService:
    def __init__(self, keys: dict[str, str], *, debug_tokens: dict[str, str] | None = None) -> None:
        self.keys = keys
        self.signing_kid = next(iter(keys))
        self.debug_tokens = debug_tokens or {}

    def issue(
        self, *, agent_id: str, task_id: str | None, scope: Scope, now: datetime, ttl: timedelta
    ) -> Issued:
        nonce = secrets.token_urlsafe(16)
        claims = {"agent_id": agent_id, "task_id": task_id, "scope": scope, "nonce": nonce}
        token = issue_token(
            claims,
            secret=self.keys[self.signing_kid],
            now=now,
            ttl=ttl,
            headers={"kid": self.signing_kid},
        )
        expires_at = datetime.fromtimestamp(int((now + ttl).timestamp()), UTC)
        return Issued(token=token, nonce=nonce, expires_at=expires_at)

    def decode(self, token: str, *, now: datetime) -> Claims:
        """Raises errors.TokenInvalid, TokenExpired or TokenPayloadInvalid."""
        if token in self.debug_tokens:
            return Claims(self.debug_tokens[token], None, "agent", None, None)
        raw = self._verified(token, now)
        agent_id, task_id, scope = raw.get("agent_id"), raw.get("task_id"), raw.get("scope")
        nonce = raw.get("nonce")
        if not isinstance(agent_id, str) or not agent_id or scope not in SCOPES:
            raise errors.TokenPayloadInvalid
        if scope == "task" and (not isinstance(task_id, str) or not task_id):
            raise errors.TokenPayloadInvalid
        if task_id is not None and not isinstance(task_id, str):
            raise errors.TokenPayloadInvalid
        if nonce is not None and not isinstance(nonce, str):
            raise errors.TokenPayloadInvalid
        expires_at = datetime.fromtimestamp(raw["exp"], UTC)
        return Claims(agent_id, task_id, scope, nonce, expires_at)

    def _verified(self, token: str, now: datetime) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise errors.TokenInvalid from exc
        secret = self.keys.get(kid) if isinstance(kid, str) else None
        if secret is None:  # unknown or removed key
            raise errors.TokenInvalid
        try:
            return decode_token(token, secret=secret, now=now)
        except TokenExpired as exc:
            raise errors.TokenExpired from exc
        except TokenError as exc:
            raise errors.TokenInvalid from exc
