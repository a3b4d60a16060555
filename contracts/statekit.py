"""Helpers the pair folders' provider-state handlers share (they run inside a provider
started in contract-test mode, see ``svckit.contract_mode``; no Pact here).

A state that concerns another service (the caller of an order must exist in user-service)
is forwarded to that service's own state endpoint, so each database is still written only by
its own service's handlers.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from svckit.auth import Role, issue_token
from svckit.contract_mode import STATE_PATH


async def forward(base_url: str, state: str, params: dict[str, Any]) -> dict[str, Any]:
    """Set ``state`` on the provider at ``base_url`` (also in contract-test mode)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        answer = await client.post(STATE_PATH, json={"state": state, "action": "setup",
                                                     "params": params})
    if answer.status_code != 200:
        raise RuntimeError(f"{base_url}{STATE_PATH} {state!r}: {answer.status_code} "
                           f"{answer.text[:300]}")
    result: dict[str, Any] = answer.json()
    return result


def token_for(app: FastAPI, user_id: int, role: Role = "user") -> str:
    settings = app.state.settings
    return issue_token(settings.jwt_secret, user_id, role, settings.jwt_ttl_s)


async def logged_in(app: FastAPI, user_id: int, role: Role = "user") -> dict[str, Any]:
    """The user exists in user-service, and a token of theirs (for provider-state injection)."""
    await forward(app.state.settings.user_service_url, "user {id} exists",
                  {"id": user_id, "role": role})
    return {"token": token_for(app, user_id, role), "user_id": user_id}


async def described_by_params(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    """A message pact's provider state: the message producer builds the event from the
    state's parameters, so the provider process itself has nothing to set up."""
    return {}
