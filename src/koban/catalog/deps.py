"""What a capability that reads the configuration and writes rows is given.

The composition root (``koban.bootstrap``) builds one of these per process; each capability
declares what it needs beyond it (``paging.deps.PagingDeps``, ``ingest.deps.IngestDeps``) and gets
exactly that: never the whole running system.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from koban.catalog.snapshot import Catalog
from koban.catalog.store import CatalogStore
from koban.core.clock import Clock
from koban.core.settings import Settings
from koban.db.engine import Database


@dataclass(eq=False)
class StoreDeps:
    db: Database
    clock: Clock
    catalogs: CatalogStore
    settings: Settings
    # This process's name on leases (``lease_owner``): unique per process, stable while it runs.
    owner: str
    # Called after committing work that is due now: the worker looks at once instead of polling.
    wake: Callable[[], None]

    @property
    def catalog(self) -> Catalog:
        return self.catalogs.current

    async def refresh_catalog(self, force: bool = False) -> None:
        await self.catalogs.refresh(force=force)
