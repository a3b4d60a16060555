"""What every consumer test shares: participant names, the pacts folder, one Pact per test.

Why a kit: pact-python 4.2 writes a handle's interactions even when the test failed, and a
served handle can still gain a half-built interaction (notes P2/P3); interactions from earlier
runs persist in merge mode (P4). So the folder is wiped once per session, each test gets
its own ``Pact`` and only a passed test's handle is written (merge mode, V4).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from pact import Pact, generate, match

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # no telemetry from the Rust core (P14)

CONTRACTS_DIR = Path(__file__).resolve().parent
PACTS_DIR_ENV = "CRASHCART_PACTS_DIR"

STOREFRONT = "storefront"
USER = "user-service"
PRODUCT = "product-service"
ORDER = "order-service"
PAYMENT = "payment-service"
PROVIDERS = (USER, PRODUCT, ORDER, PAYMENT)
SERVICE_OF = {USER: "user", PRODUCT: "product", ORDER: "order", PAYMENT: "payment"}

# Matcher patterns shared by the pairs (the API's own rules, api.md).
MONEY = r"^(0|[1-9][0-9]*)\.[0-9]{2}$"
CURRENCY = r"^[A-Z]{3}$"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SKU = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PROBLEM_JSON = "application/problem+json"


def pacts_dir() -> Path:
    """The one folder of generated pact files (``$CRASHCART_PACTS_DIR`` or contracts/pacts)."""
    return Path(os.environ.get(PACTS_DIR_ENV) or CONTRACTS_DIR / "pacts")


def wipe(folder: Path) -> Path:
    """Start a run from an empty folder (stale interactions would otherwise persist, P4)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def new_pact(consumer: str, provider: str) -> Pact:
    return Pact(consumer, provider).with_specification("V4")


def pact_files(folder: Path, provider: str | None = None) -> list[Path]:
    """Pact files in ``folder``, optionally only those whose provider is ``provider``."""
    files = sorted(folder.glob("*.json"))
    if provider is None:
        return files
    return [f for f in files if json.loads(f.read_text())["provider"]["name"] == provider]


EXAMPLE_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3MDAxIn0.example-signature"
"""The token a consumer test authenticates with; on verification the provider state's
``token`` replaces it (provider-state injection, a URL state handler: notes P7)."""


def bearer_from_state() -> Any:
    """``Authorization`` header matcher: any bearer token; verified with the state's token."""
    return match.type(f"Bearer {EXAMPLE_TOKEN}",
                      generator=generate.provider_state("Bearer ${token}"))
