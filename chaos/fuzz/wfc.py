"""Who the fuzzer is: fresh users and the admin, as a Web Fuzzing Commons (WFC) auth file.

Schemathesis reads identities from a WFC document. Each entry logs in through the platform's
own `POST /api/v1/users/login` (dynamic tokens, refreshed by Schemathesis), so a run
authenticates exactly like a client does — at user-service's port for runs against a
service's own port, through the gateway for gateway runs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

LOGIN_PATH = "/api/v1/users/login"
USERS_PATH = "/api/v1/users"


@dataclass(frozen=True, slots=True)
class Credentials:
    email: str
    password: str


def wfc_login_entry(name: str, credentials: Credentials, login_url: str) -> dict[str, Any]:
    """One WFC user that obtains a bearer token from the login endpoint at `login_url`."""
    return {
        "name": name,
        "loginEndpointAuth": {
            "externalEndpointURL": login_url,
            "verb": "POST",
            "contentType": "application/json",
            "payloadUserPwd": {
                "username": credentials.email, "usernameField": "email",
                "password": credentials.password, "passwordField": "password",
            },
            "token": {
                "extractFrom": "body", "extractSelector": "/access_token",
                "sendIn": "header", "sendName": "Authorization", "sendTemplate": "Bearer {token}",
            },
        },
    }


def write_wfc_file(path: Path, identities: dict[str, Credentials], base_url: str) -> Path:
    """Write the WFC document for `identities`, logging in at `base_url`'s login endpoint."""
    login_url = base_url.rstrip("/") + LOGIN_PATH
    document = {"auth": [wfc_login_entry(name, creds, login_url)
                         for name, creds in identities.items()]}
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def register_peers(gateway_url: str, names: tuple[str, ...] = ("alice", "bob")
                   ) -> dict[str, Credentials]:
    """Fresh accounts (unique emails) registered through the gateway, by identity name."""
    found: dict[str, Credentials] = {}
    with httpx.Client(base_url=gateway_url.rstrip("/"), timeout=15.0) as client:
        for name in names:
            creds = Credentials(f"fuzz-{name}-{uuid.uuid4().hex[:10]}@example.com",
                                f"fuzz-{uuid.uuid4().hex[:16]}")
            answer = client.post(USERS_PATH, json={"email": creds.email,
                                                   "password": creds.password,
                                                   "name": f"Fuzz {name.title()}"})
            answer.raise_for_status()
            found[name] = creds
    return found
