"""Password hashes with scrypt from the standard library: `scrypt$n$r$p$salt$hash`, all base64."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os

N, R, P = 2**14, 8, 1


def _cost() -> int:
    """scrypt's N. Each hash records its parameters, so lowering this (tests do) never breaks old hashes."""
    return int(os.environ.get("AGENTHUB_SCRYPT_N", N))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password_sync(password: str) -> str:
    salt = os.urandom(16)
    n = _cost()
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=R, p=P, dklen=32)
    return f"scrypt${n}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password_sync(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hash_password_sync, password)


async def verify_password(password: str, encoded: str) -> bool:
    return await asyncio.to_thread(verify_password_sync, password, encoded)
