"""The prober of one location: runs the configured monitors, stores results, raises and resolves alerts.

``koban serve`` runs one for ``KOBAN_PROBE_LOCATION`` (default ``local``; ``KOBAN_PROBE_ENABLED=false``
turns it off) and ``koban probe --location NAME`` runs one as its own process on the same database.
Each probes every enabled monitor whose ``locations`` lists its location (``shard`` i/n: only its
stable hash share of them, so one location can use several processes); they share nothing but
the database (results, latest per location, monitor state), exactly like workers.

Programmatic use (benchmarks, tests)::

    from koban.bootstrap.system import System
    from koban.core.settings import load_settings
    from koban.monitoring.prober import Prober

    system = System(load_settings(database_url="sqlite:///x.db"))
    await system.start(worker=False)       # migrates; monitors come from the config tables
    prober = Prober(system.deps, "local", concurrency=500, batch_size=500, flush_interval=0.25)
    await prober.start()                   # follows config changes every ``sync_interval``
    ...                                    # prober.runner.stats: probes, rechecks, stored, late_skips
    await prober.stop()                    # finishes probes in flight, stores and flushes rollups
    await system.stop()

The pipeline per batch: ``Runner`` (koban.probes: spread schedule, bounded concurrency, immediate
re-checks) -> ``ProbeStore.write`` (one transaction) -> ``monitoring.alerts.judge`` (transitions only).
Batches go every ``flush_interval`` or ``batch_size`` results, but a result that changes a monitor's
state (``urgent``) goes at once: the timer that groups history writes must not delay a page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from koban.monitoring.alerts import judge, known_states, retire_gone
from koban.monitoring.build import rule, run_spec, scheduled
from koban.monitoring.store import ProbeStore, prune
from koban.probes.result import ProbeResult
from koban.probes.rules import MonitorState, Rule, announces
from koban.probes.runner import Runner
from koban.probes.shard import Shard

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps
log = logging.getLogger("koban.probes")
_UNKNOWN = MonitorState()


class Prober:
    def __init__(
        self,
        deps: StoreDeps,
        location: str,
        *,
        concurrency: int | None = None,
        batch_size: int = 500,
        flush_interval: float = 0.25,
        sync_interval: float = 1.0,
        rollup_interval: float = 10.0,
        prune_interval: float = 3600.0,
        shard: Shard | None = None,
    ) -> None:
        self.deps, self.location = deps, location
        self.shard = shard or Shard()
        self.store = ProbeStore(deps.db, location, deps.clock)
        self.runner = Runner(
            run_spec,
            self._store,
            concurrency=concurrency or deps.settings.probe_concurrency,
            batch_size=batch_size,
            flush_interval=flush_interval,
            clock=deps.clock,
            urgent=self.urgent,
        )
        self.sync_interval, self.rollup_interval, self.prune_interval = (
            sync_interval,
            rollup_interval,
            prune_interval,
        )
        self.monitors: dict[str, str] = {}  # what this location runs: id -> stored definition
        self.rules: dict[str, Rule] = {}
        # Each monitor's status as last judged here (or loaded at start): what ``urgent`` compares
        # a new result with. Only a hint: the judging itself always reads the database.
        self.known: dict[str, MonitorState] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._synced: object = None  # the catalog's monitors mapping the runner last matched

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.load()
        await self.sync()
        self.known.update(await known_states(self.deps, set(self.monitors)))
        self._tasks = [
            asyncio.create_task(self.runner.run(), name=f"koban-prober-{self.location}"),
            asyncio.create_task(self._maintain(), name=f"koban-prober-maintenance-{self.location}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks[1:]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.runner.stop()
        if self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await self._tasks[0]
        self._tasks = []
        try:
            await self.store.flush_rollups()
        except Exception:
            log.exception("final rollup flush failed")

    # -- membership: follow the config ---------------------------------------------------------------

    async def sync(self) -> None:
        """Add, replace or remove runner entries so they match the catalog's monitors for this location."""
        catalog_monitors = self.deps.catalog.monitors
        if catalog_monitors is self._synced:
            # A config change replaces the catalog, never mutates it: comparing 100,000 monitors every
            # second would keep the event loop (probes, API) busy for seconds at a time.
            return
        self._synced = catalog_monitors
        shard, here = self.shard, self.location
        # Chosen on the compact briefs; only this shard's monitors become models (once each, to
        # build their probe and rule), and what is kept to notice a change is the stored text.
        briefs = catalog_monitors.briefs
        wanted = [i for i, b in briefs.items() if b.enabled and here in b.locations and shard.owns(i)]
        gone = set(self.monitors) - set(wanted)
        for ident in gone:
            self.runner.remove(ident)
            self.monitors.pop(ident)
            self.rules.pop(ident, None)
            self.known.pop(ident, None)
        for ident in wanted:
            definition = catalog_monitors.definition(ident)
            if self.monitors.get(ident) != definition:
                mon = catalog_monitors[ident]
                self.monitors[ident] = definition
                self.rules[ident] = rule(mon)
                self.runner.add(scheduled(mon, self.location))
        if gone:
            await self.store.forget(gone)
        try:
            retired = await retire_gone(self.deps, briefs)
        except Exception:  # next catalog change tries again; probing must go on meanwhile
            log.exception("resolving incidents of removed monitors failed")
        else:
            if retired:
                log.info("resolved the incidents of %d removed or disabled monitors", len(retired))

    async def _maintain(self) -> None:
        loop = asyncio.get_running_loop()
        next_rollup = next_prune = loop.time()
        while True:
            await asyncio.sleep(self.sync_interval)
            now = loop.time()
            try:
                await self.sync()
                if now >= next_rollup:
                    next_rollup = now + self.rollup_interval
                    # Minute rows; hour/day rows only every few minutes, spread over the flushes
                    # (rollups.COARSE_SECONDS): at 100,000 monitors rewriting them all at
                    # once, or every time, costs more than the probing itself.
                    await self.store.flush_rollups(coarse=False)
                if now >= next_prune:
                    next_prune = now + self.prune_interval
                    s = self.deps.settings
                    await prune(
                        self.deps.db,
                        self.deps.clock.now(),
                        s.probe_raw_retention_days,
                        s.probe_minute_retention_days,
                        s.probe_rollup_retention_days,
                        success_days=s.probe_raw_success_retention_days,
                        hour_days=s.probe_hour_retention_days,
                    )
            except Exception:
                log.exception("prober maintenance failed")

    # -- the runner's store callback ------------------------------------------------------------------

    async def _store(self, batch: list[ProbeResult]) -> None:
        finals = await self.store.write(batch, self.rules)
        if finals:
            await self.judge({r.monitor_id for r in finals})

    def urgent(self, result: ProbeResult) -> bool:
        """Does this result change its monitor's state? Then it is stored and judged at once.

        Judged on what this prober knows (its own location's latest result and the status it last
        judged): a result from elsewhere or an N-of-M rule may make it guess wrong, which costs
        only an early flush, or the usual flush interval.
        """
        rule = self.rules.get(result.monitor_id)
        if rule is None or not result.final:
            return False
        prev = self.store.snapshots.get(result.monitor_id)
        state = self.known.get(result.monitor_id, _UNKNOWN)
        if prev is not None:
            state = replace(state, latest={result.location: prev})
        return announces(state, rule, result, datetime.fromtimestamp(self.deps.clock.now(), UTC))

    async def judge(self, ids: set[str], now: datetime | None = None) -> None:
        local = (self.location, self.store.snapshots)
        await judge(
            self.deps,
            self.deps.catalog.monitors.briefs,
            self.rules,
            ids,
            now or datetime.fromtimestamp(self.deps.clock.now(), UTC),
            local,
            self.known,
        )
