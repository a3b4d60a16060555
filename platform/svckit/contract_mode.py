"""Contract-test mode: a provider-state endpoint that exists only when a service is started for it.

Pact provider verification must put a provider into a named state ("product 42 exists with
stock 5") before replaying an interaction. The endpoint that does it is mounted only when
``CONTRACT_TEST_MODE=1``; ``crashcart up`` and docker-compose never set it, so a normal run has
no such endpoint (a test proves it). The state handlers are not part of the service: they
live with the contracts and are imported from the module paths listed (comma-separated) in
``CONTRACT_STATE_HANDLERS``; each module exposes ``STATES: dict[str, StateHandler]``.
Nothing here knows Pact.

Body (what the Pact verifier posts): ``{"state": name, "action": "setup"|"teardown",
"params": {...}}``. An unknown state answers 400 at once (a 5xx would make the verifier retry
for minutes); the handler's returned dict is the answer, so values it creates can be
injected into the replayed request (Pact provider-state injection).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request

from svckit.problems import Problem

STATE_PATH = "/_contract/state"
MODE_ENV = "CONTRACT_TEST_MODE"
HANDLERS_ENV = "CONTRACT_STATE_HANDLERS"

StateHandler = Callable[[FastAPI, dict[str, Any]], Awaitable[dict[str, Any] | None]]


def enabled(env: Mapping[str, str] | None = None) -> bool:
    return (os.environ if env is None else env).get(MODE_ENV, "") == "1"


def load_states(modules: str) -> dict[str, StateHandler]:
    states: dict[str, StateHandler] = {}
    for name in (m.strip() for m in modules.split(",")):
        if name:
            states.update(importlib.import_module(name).STATES)
    return states


def install(app: FastAPI, env: Mapping[str, str] | None = None) -> None:
    """Mount the state endpoint if (and only if) contract-test mode is on."""
    env = os.environ if env is None else env
    if not enabled(env):
        return
    states = load_states(env.get(HANDLERS_ENV, ""))

    @app.post(STATE_PATH, include_in_schema=False)
    async def change_state(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise Problem(400, "state change body is not JSON") from None
        if not isinstance(body, dict):
            raise Problem(400, "state change body must be a JSON object")
        state = str(body.get("state") or "")
        if body.get("action", "setup") != "setup" or not state:
            return {}
        handler = states.get(state)
        if handler is None:
            raise Problem(400, f"unknown provider state {state!r} (known: "
                               f"{', '.join(sorted(states)) or 'none'})")
        params = body.get("params") or {}
        return await handler(request.app, dict(params)) or {}
