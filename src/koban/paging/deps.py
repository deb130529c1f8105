"""What paging is given by the composition root, beyond the shared ``StoreDeps``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from koban.catalog.deps import StoreDeps
from koban.channels.base import Channel
from koban.core.metrics import Metrics
from koban.paging.rows import ClaimedDelivery, IncidentRow


class SideWork(Protocol):
    """Other due rows the worker runs between its own (aggregation groups, heartbeat checks):
    handed in by the composition root, so paging does not import the capabilities that feed it."""

    async def tick(self, *, groups: bool = True, heartbeats: bool = True) -> int: ...

    async def soonest(self, conn: AsyncConnection) -> list[float]: ...


@dataclass(eq=False)
class PagingDeps(StoreDeps):
    metrics: Metrics
    public_url: str
    # The channel instance for a configured channel id (built once per config version).
    channel: Callable[[str], Channel]
    # Signed one-click links for the person a page goes to (delivery row, incident row).
    links_for: Callable[[ClaimedDelivery, IncidentRow], dict[str, str]]
    # Sleeps until ``wake`` is called or the timeout passes.
    wait_for_wake: Callable[[float], Awaitable[None]]
