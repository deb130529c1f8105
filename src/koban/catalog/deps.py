"""What a capability that reads the configuration and writes rows is given.

The composition root (``koban.bootstrap``) builds one of these per process; each capability
declares what it needs beyond it (``paging.deps.PagingDeps``, ``ingest.deps.IngestDeps``) and gets
exactly that: never the whole running system.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from koban.catalog.snapshot import Catalog
from koban.catalog.store import CatalogStore
from koban.core.clock import Clock
from koban.core.settings import Settings
from koban.db.engine import Database


@dataclass(frozen=True, slots=True)
class Handed:
    """Deliveries a write transaction claimed for this process's sender (``HandOff``).

    ``start`` them once that transaction has committed, never before (a rollback undoes the claim);
    ``complete``: every key asked for was claimed, so the worker need not be woken for them."""

    start: Callable[[], None]
    complete: bool


NOTHING_HANDED = Handed(start=lambda: None, complete=False)


class HandOff(Protocol):
    """Claim, in the caller's write transaction, the due deliveries of ``keys`` that it has just
    written, for this process's paging worker (``paging/worker.py`` ``Worker.hand_off``): the same
    lease and ``sending`` mark as the worker's own claim, without a wake-up and a claim transaction
    of its own. ``NOTHING_HANDED`` when no worker runs in this process."""

    async def __call__(self, conn: AsyncConnection, keys: Sequence[str]) -> Handed: ...


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
    # Pages a transaction makes due, claimed in it for this process's sender (the first page of an
    # incident a probe opened leaves without a wake-up and a claim transaction in between).
    hand_off: HandOff

    @property
    def catalog(self) -> Catalog:
        return self.catalogs.current

    async def refresh_catalog(self, force: bool = False) -> None:
        await self.catalogs.refresh(force=force)
