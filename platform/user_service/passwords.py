"""Password hashing with scrypt (a memory-hard KDF), cost configurable for load tests.

Hashing runs in a worker thread so a login does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os

_R, _P, _LEN = 8, 1, 32


def _scrypt(password: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=_R, p=_P,
                          dklen=_LEN, maxmem=256 * 1024 * 1024)


def hash_password_sync(password: str, n: int) -> str:
    salt = os.urandom(16)
    digest = _scrypt(password, salt, n)
    return f"scrypt${n}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password_sync(password: str, encoded: str) -> bool:
    try:
        scheme, n, _r, _p, salt_b64, digest_b64 = encoded.split("$")
        if scheme != "scrypt":
            return False
        digest = _scrypt(password, base64.b64decode(salt_b64), int(n))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


async def hash_password(password: str, n: int) -> str:
    return await asyncio.to_thread(hash_password_sync, password, n)


async def verify_password(password: str, encoded: str) -> bool:
    return await asyncio.to_thread(verify_password_sync, password, encoded)
