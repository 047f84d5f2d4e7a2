"""Credentials shared by the protocols: password hashes and HS256 JWTs checked against the injected clock."""

from agenthub.auth.passwords import hash_password, verify_password
from agenthub.auth.tokens import TokenError, TokenExpired, decode_token, issue_token

__all__ = ["TokenError", "TokenExpired", "decode_token", "hash_password", "issue_token", "verify_password"]
