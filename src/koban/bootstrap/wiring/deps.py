"""What the wiring modules use of the running system (``bootstrap/system.py`` has all of it).

A protocol rather than the class itself, so the system can import its wiring without a cycle.
"""

from __future__ import annotations

from typing import Any, Protocol

from koban.catalog.snapshot import Catalog
from koban.channels.actions import IncidentActions
from koban.channels.base import Channel
from koban.core.clock import Clock
from koban.db.engine import Database
from koban.paging.deps import PagingDeps


class Wired(Protocol):
    db: Database
    clock: Clock
    public_url: str
    signing_key: bytes
    paging: PagingDeps
    # What channels are built with (``ChannelContext``): keys, URL, clock, actions, shared state.
    context: Any

    @property
    def catalog(self) -> Catalog: ...

    # Read-only: the system's ``Actions`` implements this port (a settable member would be invariant).
    @property
    def actions(self) -> IncidentActions: ...

    def wake(self) -> None: ...

    def channel(self, channel_id: str) -> Channel: ...

    async def refresh_catalog(self, force: bool = False) -> None: ...
