"""Start a real System on a test database with a fake clock and an applied config."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import sqlalchemy as sa

from koban.bootstrap.app import create_app
from koban.bootstrap.system import System
from koban.catalog.apply import apply_config
from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.core.settings import Settings
from koban.db import schema as t
from tests.support.admin import AdminToken


@asynccontextmanager
async def running_system(
    db_url: str, cfg: ConfigFile, tmp_path: Any, *, worker: bool = False, clock: Any = None, **settings: Any
) -> AsyncIterator[System]:
    s = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        secret_key="test-secret",
        sqlite_synchronous="NORMAL",
        **settings,
    )
    k = System(s, clock=clock or FakeClock())
    await k.start(worker=worker)
    try:
        async with k.db.begin() as conn:
            await apply_config(conn, cfg, k.clock.now())
        await k.refresh_catalog(force=True)
        yield k
    finally:
        await k.stop()


def client(k, *, admin: bool = True) -> httpx.AsyncClient:
    """The app in process; as an administrator unless ``admin=False`` (anonymous)."""
    app = create_app(k, manage_system=False)
    auth = AdminToken(k) if admin else None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://koban.test", auth=auth)


async def drain(k) -> None:
    """Run the worker until nothing is due now (the fake clock does not move by itself)."""
    for _ in range(50):
        if not await k.worker.tick() and not k.worker.inflight:
            return
        if k.worker.inflight:
            await asyncio.gather(*list(k.worker.inflight))
    raise AssertionError("worker kept finding work")


async def deliveries(k) -> list[tuple[str, str, str]]:
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.deliveries.c.person_id, t.deliveries.c.kind, t.deliveries.c.state).order_by(
                t.deliveries.c.id
            )
        )
        return [tuple(r) for r in rows]
