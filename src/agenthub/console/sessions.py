"""Console sessions: a short-lived HS256 token in an HttpOnly, SameSite=Strict cookie, signed with a key
derived from the server's secret for the console alone (no protocol's token passes as a session). It never
appears in a URL or a log line; it expires by the injected clock, so tests need no sleep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.responses import Response

from agenthub.auth.tokens import TokenError, decode_token, issue_token
from agenthub.console.errors import NotLoggedIn

COOKIE = "agenthub_console"
SCOPE = "console"


@dataclass(frozen=True, slots=True)
class Operator:
    username: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Sessions:
    secret: str
    ttl: timedelta
    secure: bool

    def issue(self, username: str, *, now: datetime) -> str:
        return issue_token({"sub": username, "scope": SCOPE}, secret=self.secret, now=now, ttl=self.ttl)

    def check(self, token: str | None, *, now: datetime) -> Operator:
        if not token:
            raise NotLoggedIn()
        try:
            claims = decode_token(token, secret=self.secret, now=now)
        except TokenError:
            raise NotLoggedIn() from None
        if claims.get("scope") != SCOPE or not isinstance(claims.get("sub"), str):
            raise NotLoggedIn()
        return Operator(claims["sub"], datetime.fromtimestamp(claims["exp"], tz=now.tzinfo))

    def set_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(self.ttl.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/",
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(COOKIE, httponly=True, samesite="strict", secure=self.secure, path="/")
