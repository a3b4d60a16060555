"""user-service app: `uvicorn user_service.main:app`."""

from __future__ import annotations

from fastapi import FastAPI
from svckit.app import create_service_app
from svckit.auth import UserDirectory, set_user_directory
from svckit.settings import load_settings

from user_service import repository
from user_service.api import internal, normalise_email, router
from user_service.passwords import hash_password
from user_service.throttle import LoginThrottle


async def seed_admin(app: FastAPI) -> None:
    """Create or refresh the admin account from ADMIN_EMAIL / ADMIN_PASSWORD; set up the
    login throttle (its state in this database) and the user directory (this service's own
    table: no cache needed)."""
    pool = app.state.pool
    app.state.login_throttle = LoginThrottle(pool)

    async def user_exists(user_id: int) -> bool:
        return await repository.user_by_id(pool, user_id) is not None

    set_user_directory(app, UserDirectory(user_exists, ttl_s=0))
    settings = app.state.settings
    password_hash = await hash_password(settings.admin_password, settings.password_scrypt_n)
    await repository.upsert_admin(app.state.pool, normalise_email(settings.admin_email),
                                  "Administrator", password_hash)


def create_app() -> FastAPI:
    return create_service_app(
        settings=load_settings("user"),
        package="user_service",
        title="Crashcart user-service",
        description="Users, login (JWT issue) and profiles.",
        routers=[router, internal],
        on_startup=seed_admin,
    )


app = create_app()
