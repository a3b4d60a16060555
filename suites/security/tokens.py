"""Forged bearer tokens for the JWT attack tests (PyJWT, and hand-built where it refuses)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(user_id: int, role: str = "user", *, ttl_s: int = 600, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": str(user_id), "role": role, "iat": now, "exp": now + ttl_s, **extra}


def hs256(secret: str, payload: dict[str, Any]) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def alg_none(payload: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(payload).encode())}."


def tampered(token: str, **changes: Any) -> str:
    """The same header and signature over a changed payload."""
    header, payload, signature = token.split(".")
    padded = payload + "=" * (-len(payload) % 4)
    doc = json.loads(base64.urlsafe_b64decode(padded))
    doc.update(changes)
    return f"{header}.{_b64(json.dumps(doc).encode())}.{signature}"


# An RSA public key in PEM form, as an attacker would find one published: the classic RS/HS
# confusion signs HS256 with these bytes as the HMAC secret.
PUBLIC_PEM = (
    b"-----BEGIN PUBLIC KEY-----\n"
    b"MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMDq7o8Qh3S2m4W0uQWkq1yBq5m7dQjJ\n"
    b"Qm2n9nE1r2bC8v7tqv0o3m6qB9yq2s1Zc1r5m1tS3xg6d2QF3b3gk5ECAwEAAQ==\n"
    b"-----END PUBLIC KEY-----\n"
)


def with_alg(alg: str, payload: dict[str, Any], signature: bytes = b"\x01" * 256) -> str:
    """A token whose header names `alg` (RS256, ES256, ...) with an arbitrary signature."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(payload).encode())}.{_b64(signature)}"


def hmac_signed(key: bytes, payload: dict[str, Any], alg: str = "HS256") -> str:
    """An HMAC-signed token keyed with arbitrary bytes (PyJWT refuses PEM keys for HMAC)."""
    import hashlib
    import hmac

    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload).encode())
    signature = hmac.new(key, f"{header}.{body}".encode(), digest).digest()
    return f"{header}.{body}.{_b64(signature)}"
