"""The running koban: the one place that builds the database, clock, config snapshot, queues and
workers, and hands each capability the narrow deps it declares.

API, scheduler and workers share it in one asyncio loop; several processes (``koban serve`` /
``koban worker``) on one PostgreSQL database coordinate only through rows and leases. Only the
CLI, the app factory beside this module, the tests and ``bench/`` use it; capabilities never see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.api.deps import ApiDeps
from koban.bootstrap.wiring.links import links_for
from koban.bootstrap.wiring.twilio import make_channel
from koban.calendars.worker import CalendarWork
from koban.catalog.deps import NOTHING_HANDED, Handed, StoreDeps
from koban.catalog.snapshot import Catalog
from koban.catalog.store import CatalogStore
from koban.channels.base import Channel
from koban.channels.registry import ChannelFactory, build_channel
from koban.core import outbound
from koban.core.clock import Clock, SystemClock
from koban.core.metrics import Metrics
from koban.core.settings import Settings
from koban.db.due_signal import DueListener
from koban.db.engine import Database
from koban.db.local_wake import LocalWake, wake_dir
from koban.db.migrate import upgrade
from koban.ingest.batcher import IngestBatcher
from koban.ingest.deps import IngestDeps
from koban.ingest.drain import InboxDrain
from koban.ingest.inbox import InboxWriter
from koban.logs.worker import LogWork
from koban.paging.actions import Actions
from koban.paging.deps import PagingDeps
from koban.paging.rows import ClaimedDelivery, IncidentRow
from koban.paging.worker import SHUTDOWN_GRACE, Worker
from koban.reports.work import ReportWork
from koban.triage.worker import RoutingWork

# Phone channels need koban's stores (call states, contact problems, tokens): their wiring
# module builds them, handed to the registry here so that no channel imports back up.
WIRED_CHANNELS: dict[str, ChannelFactory] = {
    "voice": lambda cls, settings, ctx: make_channel("voice", settings, ctx),
    "sms": lambda cls, settings, ctx: make_channel("sms", settings, ctx),
}


log = logging.getLogger("koban.system")


class ChannelContext:
    """What channels may use besides their own settings."""

    def __init__(self, system: System) -> None:
        self.public_url = system.public_url
        self.signing_key = system.signing_key
        self.clock = system.clock
        self.actions = system.actions
        self.settings = system.settings
        self.db = system.db
        # Per-process state channels share (e.g. one Twilio pacer per account), never module globals.
        self.shared: dict[Any, Any] = {}


class System:
    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db = Database(settings.effective_database_url, sqlite_synchronous=settings.sqlite_synchronous)
        self.owner = settings.instance_name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.public_url = settings.effective_public_url
        self.signing_key = settings.signing_key()
        self.metrics = Metrics()
        self.catalogs = CatalogStore(self.db, settings.sealer())
        self._channels: dict[str, tuple[Any, bytes, Channel]] = {}
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.listener: DueListener | None = None
        # SQLite's twin of the listener: other processes on the same file (db/local_wake.py).
        folder = wake_dir(settings.effective_database_url)
        self.local_wake = LocalWake(folder) if folder is not None else None
        # Set by `koban serve` / `koban probe`: run the prober of this location (monitoring/prober.py).
        self.probe_location: str | None = None
        self.prober: Any = None

        # What each capability is handed: the shared store deps, plus what it declares.
        self.deps = StoreDeps(
            self.db, self.clock, self.catalogs, settings, self.owner, self.wake, self.hand_off
        )
        self.paging = PagingDeps(
            **_fields(self.deps),
            metrics=self.metrics,
            public_url=self.public_url,
            channel=self.channel,
            links_for=self.links_for,
            wait_for_wake=self.wait_for_wake,
        )
        self.actions = Actions(self.paging)
        self.batcher = IngestBatcher(self.deps)
        self.drain = InboxDrain(self.deps)
        # Queued sources: the edge commits the body (inbox), the worker's drain makes incidents.
        self.inbox = InboxWriter(self.deps, self.batcher.gate, self.drain.wake, self.metrics)
        self.ingest = IngestDeps(
            **_fields(self.deps), metrics=self.metrics, inbox=self.inbox, batcher=self.batcher
        )
        self.worker = Worker(self.paging, RoutingWork(self.deps))
        self.calendars = CalendarWork(self.deps)  # imported calendars: fetches, tasks
        self.logs = LogWork(self.deps, self.metrics)  # digests on their cron, log rules on their interval
        self.reports = ReportWork(self.deps, self.channel)  # scheduled reports (reports/scheduled.py)
        self.api = ApiDeps(**_fields(self.deps), actions=self.actions, metrics=self.metrics)
        self.context = ChannelContext(self)

    @property
    def catalog(self) -> Catalog:
        return self.catalogs.current

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
        if worker:
            self._warm_channels()
        self._tasks.append(asyncio.create_task(self.catalogs.follow(), name="koban-catalog"))
        if worker:
            self._tasks.append(asyncio.create_task(self.worker.run(), name="koban-worker"))
            self._tasks.append(asyncio.create_task(self.drain.run(), name="koban-inbox-drain"))
            self._tasks.append(asyncio.create_task(self.calendars.run(), name="koban-calendars"))
            self._tasks.append(asyncio.create_task(self.logs.run(), name="koban-logs"))
            self._tasks.append(asyncio.create_task(self.reports.run(), name="koban-reports"))
            if self.db.dialect == "postgresql":  # other instances' commits wake us (db/due_signal.py)
                self.listener = DueListener(self.settings.effective_database_url, self._woken_by_peer)
                self.listener.start()
            elif self.local_wake is not None:
                self.local_wake.listen(self._woken_by_peer)
            from koban.bootstrap.wiring.twilio_sweep import run_sweeper  # calls whose callback never came

            self._tasks.append(asyncio.create_task(run_sweeper(self), name="koban-twilio-sweep"))
        if self.probe_location:
            from koban.monitoring.prober import Prober

            self.prober = Prober(self.deps, self.probe_location)
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
        self.calendars.stop()
        self.logs.stop()
        self.reports.stop()
        await self.inbox.close()
        await self.batcher.close()
        for task in self._tasks:
            if task.get_name() in ("koban-worker", "koban-inbox-drain"):  # let the batch finish
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=SHUTDOWN_GRACE)
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks.clear()
        if self.local_wake is not None:
            # Last: the worker wakes others until it has stopped, and a socket opened for that
            # after closing would be left open (seen with two instances on one file in a process).
            self.local_wake.close()
        for _, _, ch in self._channels.values():
            close = getattr(ch, "aclose", None)
            if close is not None:
                await close()
        await outbound.close()
        await self.db.dispose()

    # -- wake-ups ------------------------------------------------------------------------------------

    def _event(self) -> asyncio.Event:
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    def wake(self) -> None:
        """This process committed due work: its own worker looks now. On PostgreSQL the commit
        itself told the other instances (pg_notify); on SQLite, a datagram does (db/local_wake.py)."""
        self._event().set()
        if self.local_wake is not None:
            self.local_wake.notify()

    def _woken_by_peer(self) -> None:
        # Another process committed: maybe inbox rows too, which this process's drain would otherwise
        # find only at its next poll (its own edge wakes the drain directly).
        self._event().set()
        self.drain.wake()

    async def hand_off(self, conn: AsyncConnection, keys: Sequence[str]) -> Handed:
        """Deliveries a transaction has just made due, claimed in it for this process's worker
        (``Worker.hand_off``; nothing when it does not run here: ``koban probe``, ``--no-worker``)."""
        if not keys:
            return NOTHING_HANDED
        return await self.worker.hand_off(conn, keys)

    async def wait_for_wake(self, seconds: float) -> None:
        ev = self._event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), seconds)
        ev.clear()

    # -- configuration snapshot and channels -----------------------------------------------------------

    async def refresh_catalog(self, force: bool = False) -> None:
        await self.catalogs.refresh(force=force)

    def channel(self, channel_id: str) -> Channel:
        cfg = self.catalog.channels[channel_id]
        cached = self._channels.get(channel_id)
        if cached and cached[0] is cfg:  # same catalog: no digest per send (it was ~3% of a burst)
            return cached[2]
        digest = hashlib.sha256(orjson.dumps(cfg.model_dump(), option=orjson.OPT_SORT_KEYS)).digest()
        if cached and cached[1] == digest:
            self._channels[channel_id] = (cfg, digest, cached[2])
            return cached[2]
        inst = build_channel(cfg.type, cfg.settings(), self.context, WIRED_CHANNELS)
        self._channels[channel_id] = (cfg, digest, inst)
        return inst

    def _warm_channels(self) -> None:
        """Build each configured channel at start rather than on its first page: a first build pays
        for the vendor SDK's lazy setup (Twilio's: ~0.2 s), which belongs before the outage, not in it."""
        for channel_id in self.catalog.channels:
            try:
                self.channel(channel_id)
            except Exception as exc:  # the page itself will say what is wrong, where it is seen
                log.warning("channel %s cannot be built yet: %s", channel_id, exc)

    def links_for(self, delivery: ClaimedDelivery, incident: IncidentRow) -> dict[str, str]:
        """Signed one-click links for the person a page goes to (empty for team channels)."""
        return links_for(self, delivery, incident)


def _fields(deps: StoreDeps) -> dict[str, Any]:
    """The shared deps as keyword arguments, for the capabilities' deps that extend them."""
    return {f.name: getattr(deps, f.name) for f in dataclasses.fields(deps)}
