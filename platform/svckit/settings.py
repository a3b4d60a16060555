"""Service configuration from environment variables (the contract in ARCHITECTURE.md).

One settings class serves all four services; each service fills in its own name so the
defaults (database name, ...) follow it. Nonsense values fail at start-up with a clear
message instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ServiceName = Literal["user", "product", "order", "payment"]

DEV_JWT_SECRET = "crashcart-dev-secret-change-me-0123456789"


class ServiceSettings(BaseSettings):
    """Environment of one service; field names map to upper-case env vars."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    service_name: ServiceName
    database_url: str = ""
    """postgresql://user@host:port/db; empty means crashcart_<service> on localhost."""
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = "crashcart.events"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    user_service_url: str = "http://127.0.0.1:8101"
    product_service_url: str = "http://127.0.0.1:8102"
    admin_email: str = "admin@crashcart.local"
    admin_password: str = "admin-password"
    processor_latency_ms: int = Field(default=0, ge=0, le=60_000)

    password_scrypt_n: int = Field(default=2**13, ge=2**10, le=2**20)
    """scrypt CPU/memory cost; the default keeps a login ~20 ms so load tests stay cheap."""

    http_timeout_s: float = Field(default=2.0, gt=0, le=30)
    http_attempts: int = Field(default=3, ge=1, le=10)
    http_budget_s: float = Field(default=5.0, gt=0, le=60)
    """Bound on one dependency call, retries and backoff included: stays under the gateway's
    upstream read timeout so the caller answers 504 itself instead of the gateway timing out."""
    request_deadline_s: float = Field(default=6.0, gt=0, le=120)
    """Bound on a whole request (svckit/deadline.py): past it a 503, below the gateway's
    upstream read timeout (10 s) with room for the cancelled handler's cleanup."""
    breaker_failure_threshold: int = Field(default=5, ge=1, le=1000)
    breaker_reset_timeout_s: float = Field(default=5.0, gt=0, le=600)

    db_command_timeout_s: float = Field(default=5.0, gt=0, le=120)
    db_connect_timeout_s: float = Field(default=3.0, gt=0, le=60)
    db_acquire_timeout_s: float = Field(default=3.0, gt=0, le=120)
    """Longest wait for a pooled connection (connecting included): a dead DB gives a fast 503."""
    db_pool_max: int = Field(default=10, ge=1, le=200)
    db_startup_wait_s: float = Field(default=30.0, ge=0, le=600)

    consumer_max_attempts: int = Field(default=5, ge=1, le=50)
    consumer_retry_base_ms: int = Field(default=500, ge=10, le=600_000)
    consumer_prefetch: int = Field(default=16, ge=1, le=1000)
    consumer_concurrency: int = Field(default=4, ge=1, le=200)
    """Deliveries of one service using the database at once; capped below DB_POOL_MAX (see
    `consumer_slots`) so a backlog never takes every pooled connection from the HTTP API."""
    broker_heartbeat_s: int = Field(default=10, ge=0, le=600)
    outbox_poll_s: float = Field(default=1.0, gt=0, le=60)

    order_deadline_s: float = Field(default=60.0, gt=0, le=7 * 24 * 3600)
    """An order still PENDING this long after its creation is ended with compensation:
    REJECTED if nothing was reserved, PAYMENT_FAILED if not charged, PAID if charged."""
    order_redrive_s: float = Field(default=10.0, gt=0, le=3600)
    """A PENDING order is re-driven (its saga event re-emitted) this long after the last push."""
    order_reconcile_interval_s: float = Field(default=1.0, gt=0, le=600)

    @field_validator("jwt_secret")
    @classmethod
    def _secret_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("JWT_SECRET must not be empty")
        if len(value) < 16:
            raise ValueError("JWT_SECRET must be at least 16 characters (HS256 key)")
        return value

    @field_validator("amqp_url")
    @classmethod
    def _amqp_scheme(cls, value: str) -> str:
        if not value.startswith(("amqp://", "amqps://")):
            raise ValueError("AMQP_URL must start with amqp:// or amqps://")
        return value

    @field_validator("user_service_url", "product_service_url")
    @classmethod
    def _http_scheme(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("service URLs must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("events_exchange", "admin_email")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("admin_password")
    @classmethod
    def _admin_password_length(cls, value: str) -> str:
        if not 8 <= len(value) <= 128:
            raise ValueError("ADMIN_PASSWORD must be 8-128 characters (the API's password rule)")
        return value

    @property
    def consumer_slots(self) -> int:
        """CONSUMER_CONCURRENCY, capped so at least one pooled connection stays free."""
        return max(1, min(self.consumer_concurrency, self.db_pool_max - 1))

    @model_validator(mode="after")
    def _default_database(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = (
                f"postgresql://postgres@127.0.0.1:5432/crashcart_{self.service_name}")
        if not self.database_url.startswith(("postgresql://", "postgres://")):
            raise ValueError("DATABASE_URL must start with postgresql://")
        return self


def load_settings(service_name: ServiceName) -> ServiceSettings:
    """Read the environment for `service_name`; SERVICE_NAME, if set, must agree."""
    settings = ServiceSettings(service_name=service_name)  # type: ignore[call-arg]
    declared = os.environ.get("SERVICE_NAME")
    if declared and declared != service_name:
        raise ValueError(f"SERVICE_NAME={declared!r} but this is the {service_name} service")
    return settings
