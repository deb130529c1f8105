"""The snapshot this instance works from, reloaded when the config tables change.

Every instance keeps one; a cheap fingerprint of the config tables tells when to reload, so an
edit made through another instance (or ``koban config apply``) is seen within seconds.
"""

from __future__ import annotations

import asyncio
import logging

from koban.catalog.snapshot import Catalog, fingerprint, load_catalog
from koban.core.sealing import Sealer
from koban.db.engine import Database

log = logging.getLogger("koban")
CHECK_SECONDS = 2.0


class CatalogStore:
    def __init__(self, db: Database, sealer: Sealer | None = None) -> None:
        self.db, self.sealer = db, sealer
        self.current = Catalog()

    async def refresh(self, force: bool = False) -> None:
        async with self.db.read() as conn:
            if not force and await fingerprint(conn) == self.current.fingerprint:
                return
            self.current = await load_catalog(conn, self.sealer)

    async def follow(self, every: float = CHECK_SECONDS) -> None:
        """Runs until cancelled: picks up config changes made anywhere."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.refresh()
            except Exception:
                log.exception("catalog refresh failed")
