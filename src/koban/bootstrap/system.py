"""The running koban: one object wiring the database, clock, config snapshot, queues and workers.

API, scheduler and workers share it in one asyncio loop; several processes (``koban serve`` /
``koban worker``) on one PostgreSQL database coordinate only through rows and leases.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import os
import secrets
import socket
from typing import Any

import orjson

from koban.catalog.snapshot import Catalog, fingerprint, load_catalog
from koban.channels.base import Channel
from koban.channels.registry import build_channel
from koban.core.clock import SystemClock
from koban.core.metrics import Metrics
from koban.core.settings import Settings
from koban.db.due_signal import DueListener
from koban.db.engine import Database
from koban.db.migrate import upgrade
from koban.ingest.batcher import IngestBatcher
from koban.ingest.drain import InboxDrain
from koban.ingest.inbox import InboxWriter
from koban.paging.actions import Actions
from koban.paging.worker import Worker

log = logging.getLogger("koban")
CATALOG_CHECK_SECONDS = 2.0


class ChannelContext:
    """What channels may use besides their own settings."""

    def __init__(self, k: Kernel) -> None:
        self.public_url = k.public_url
        self.signing_key = k.signing_key
        self.clock = k.clock
        self.actions = k.actions
        self.settings = k.settings
        self.db = k.db
        # Per-process state channels share (e.g. one Twilio pacer per account), never module globals.
        self.shared: dict[Any, Any] = {}


class Kernel:
    def __init__(self, settings: Settings, *, clock: Any = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = Database(settings.effective_database_url, sqlite_synchronous=settings.sqlite_synchronous)
        self.owner = settings.instance_name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.public_url = settings.effective_public_url
        self.signing_key = settings.signing_key()
        self.metrics = Metrics()
        self.catalog = Catalog()
        self.actions = Actions(self)
        self.batcher = IngestBatcher(self)
        # Queued sources: the edge commits the body (inbox), the worker's drain makes incidents.
        self.inbox = InboxWriter(self, self.batcher.gate)
        self.drain = InboxDrain(self)
        self.worker = Worker(self)
        self.context = ChannelContext(self)
        self._channels: dict[str, tuple[Any, bytes, Channel]] = {}
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.listener: DueListener | None = None
        # Set by `koban serve` / `koban probe`: run the prober of this location (monitoring/prober.py).
        self.probe_location: str | None = None
        self.prober: Any = None

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self, *, worker: bool = True, migrate: bool = True) -> None:
        if migrate:
            await asyncio.to_thread(
                upgrade, self.settings.effective_database_url, "head", self.settings.sqlite_synchronous
            )
        await self.refresh_catalog(force=True)
        if not gc.get_freeze_count():
            # Once per process: modules, settings and the catalog live as long as it does. Left in the
            # collected heap, every full collection rescanned them (~100k objects): a burst paid
            # ~0.3 s of CPU per 6,000 incidents for collections that could free nothing there.
            gc.collect()
            gc.freeze()
        self.batcher.start()
        self.inbox.start()
        self._tasks.append(asyncio.create_task(self._catalog_loop(), name="koban-catalog"))
        if worker:
            self._tasks.append(asyncio.create_task(self.worker.run(), name="koban-worker"))
            self._tasks.append(asyncio.create_task(self.drain.run(), name="koban-inbox-drain"))
            if self.db.dialect == "postgresql":  # other instances' commits wake us (db/due_signal.py)
                self.listener = DueListener(self.settings.effective_database_url, self.wake)
                self.listener.start()
            from koban.bootstrap.wiring.twilio_sweep import run_sweeper  # calls whose callback never came

            self._tasks.append(asyncio.create_task(run_sweeper(self), name="koban-twilio-sweep"))
        if self.probe_location:
            from koban.monitoring.prober import Prober

            self.prober = Prober(self, self.probe_location)
            await self.prober.start()

    async def stop(self) -> None:
        if self.prober is not None:
            await self.prober.stop()
            self.prober = None
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
        self.worker.stop()
        self.drain.stop()
        await self.inbox.close()
        await self.batcher.close()
        for task in self._tasks:
            if task.get_name() in ("koban-worker", "koban-inbox-drain"):  # let the batch finish
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=self.settings.lease_seconds)
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks.clear()
        for _, _, ch in self._channels.values():
            close = getattr(ch, "aclose", None)
            if close is not None:
                await close()
        from koban.core import outbound

        await outbound.close()
        await self.db.dispose()

    # -- wake-ups ------------------------------------------------------------------------------------

    def _event(self) -> asyncio.Event:
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    def wake(self) -> None:
        self._event().set()
        if self.listener is not None:
            # Maybe another instance's edge committed inbox rows (same koban_due signal). This
            # process's own edge wakes the drain directly, so SQLite needs no extra look per wake.
            self.drain.wake()

    async def wait_for_wake(self, seconds: float) -> None:
        ev = self._event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), seconds)
        ev.clear()

    # -- configuration snapshot -------------------------------------------------------------------------

    async def refresh_catalog(self, force: bool = False) -> None:
        async with self.db.read() as conn:
            if not force and await fingerprint(conn) == self.catalog.fingerprint:
                return
            self.catalog = await load_catalog(conn)

    async def _catalog_loop(self) -> None:
        while True:
            await asyncio.sleep(CATALOG_CHECK_SECONDS)
            try:
                await self.refresh_catalog()
            except Exception:
                log.exception("catalog refresh failed")

    def channel(self, channel_id: str) -> Channel:
        cfg = self.catalog.channels[channel_id]
        cached = self._channels.get(channel_id)
        if cached and cached[0] is cfg:  # same catalog: no digest per send (it was ~3% of a burst)
            return cached[2]
        digest = hashlib.sha256(orjson.dumps(cfg.model_dump(), option=orjson.OPT_SORT_KEYS)).digest()
        if cached and cached[1] == digest:
            self._channels[channel_id] = (cfg, digest, cached[2])
            return cached[2]
        inst = build_channel(cfg.type, cfg.settings(), self.context)
        self._channels[channel_id] = (cfg, digest, inst)
        return inst

    def links_for(self, delivery: dict[str, Any], incident: dict[str, Any]) -> dict[str, str]:
        """Signed one-click links for the person a page goes to (empty for team channels)."""
        from koban.bootstrap.wiring.links import links_for

        return links_for(self, delivery, incident)
