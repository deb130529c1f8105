"""An administrator's API token for tests that call the REST API (every route needs one now)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import sqlalchemy as sa

from koban.auth import api_tokens
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user
from koban.db.engine import Database
from koban.db.schema_auth import users

ADMIN = "test-admin"


async def provision(db: Database, now: float, *, person: str = ADMIN) -> str:
    """A fresh admin token (and the admin login, the first time)."""
    issued = api_tokens.issue(secrets.token_bytes(24))
    async with db.begin() as conn:
        known = await conn.execute(sa.select(users.c.person_id).where(users.c.person_id == person))
        if known.first() is None:
            await create_user(conn, person, now, password_hash=None, global_role=Role.ADMIN)
        await create_token(conn, issued, now, person_id=person, name="tests", scope=Scope.ADMIN)
    return issued.text


async def provision_url(url: str, now: float) -> str:
    db = Database(url)
    try:
        return await provision(db, now)
    finally:
        await db.dispose()


class AdminToken(httpx.Auth):
    """Adds ``Authorization: Bearer <admin token>``, made on first use against the system's database."""

    def __init__(self, system: Any) -> None:
        self.system, self.text = system, ""

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        path = request.url.path
        # Ingest and pings authenticate with integration keys, which may travel in the same header.
        if path.startswith("/api/v1/") and not path.startswith("/api/v1/ingest") and "/ping" not in path:
            if not self.text:
                self.text = await provision(self.system.db, self.system.clock.now())
            request.headers.setdefault("Authorization", f"Bearer {self.text}")
        yield request
