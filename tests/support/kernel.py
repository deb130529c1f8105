"""Start a real System on a test database with a fake clock and an applied config."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from koban.bootstrap.system import System
from koban.catalog.apply import apply_config
from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.core.settings import Settings


@asynccontextmanager
async def running_kernel(
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
