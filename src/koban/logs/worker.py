"""The logs' share of the worker: digests on their cron, log rules on their interval.

Runs wherever the worker runs (``koban serve``, ``koban worker``); any number of instances may run
it, because every piece is claimed in the database:

- a digest run is a ``digest_runs`` row, unique per (digest, window start), inserted before the
  cluster is asked (``digests.run_digest``), and its posts are ``digest_posts`` rows, one per
  channel, posted at once and retried here (``digest_posts.send_due``): one post per window and
  channel across instances and restarts; a window missed while koban was down is run at the first
  tick after start;
- each enabled rule has a ``log_rule_runs`` row, claimed with a lease (``db/queue.claim``) when due
  and given its next due time under that lease: one query per rule per interval, whoever runs it.

Rule lag (started minus due) and query time go to ``/metrics``; a run's error stays on its row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from koban.catalog.deps import StoreDeps
from koban.catalog.snapshot import Catalog
from koban.core.metrics import Metrics
from koban.db.leased_rows import renewing
from koban.db.queue import claim, next_due
from koban.db.schema_logs import digest_posts as digest_posts_table
from koban.db.schema_logs import log_rule_runs as runs
from koban.db.schema_logs import log_rule_state
from koban.logs import digest_posts
from koban.logs.digests import RunResult, failure_event, run_digest
from koban.logs.pipeline import Pipeline, as_of
from koban.logs.rule_runner import Emit, run_rule

log = logging.getLogger(__name__)
MAX_SLEEP = 30.0
CLAIM = 100  # rules claimed per round
PARALLEL = 8  # queries in flight at once per worker


class LogWork:
    def __init__(self, deps: StoreDeps, metrics: Metrics | None = None, emit: Emit | None = None) -> None:
        self.deps = deps
        self.metrics = metrics
        self.emit: Emit = emit or Pipeline(deps)
        self._stop = asyncio.Event()
        self._poke = asyncio.Event()
        self._limit = asyncio.Semaphore(PARALLEL)

    async def tick(self) -> int:
        """One round: due digests run, due rules run; how many runs were done."""
        catalog = self.deps.catalog
        done = 0
        for digest in list(catalog.digests.values()):
            if not digest.enabled or digest.cluster not in catalog.log_clusters:
                continue
            try:
                result = await run_digest(
                    self.deps.db, catalog, digest, as_of(self.deps.clock.now()), self.emit, self.deps.owner
                )
            except Exception:  # one digest's bug must not stop the others
                log.exception("digest %s failed", digest.id)
                continue
            done += result is not None
        done += await digest_posts.send_due(
            self.deps.db, catalog.channels, self.deps.db.dialect, self.deps.owner, self.deps.clock.now,
            self._settled,
        )  # fmt: skip
        await self.sync_rules(catalog)
        while True:
            ran = await self.run_due_rules(catalog)
            done += ran
            if ran < CLAIM:
                return done

    async def _settled(self, digest_id: str, run_id: int, status: str, error: str | None) -> None:
        """A run whose last post settled on a retry: its service hears of it as after a first try."""
        digest = self.deps.catalog.digests.get(digest_id)
        if digest is not None and digest.service:
            now = self.deps.clock.now()
            event = failure_event(digest_id, RunResult(run_id, status, error), as_of(now))
            await self.emit(digest.service, [event])

    async def sync_rules(self, catalog: Catalog) -> None:
        """A queue row per enabled rule (due at once when new); rows and state of rules gone, dropped."""
        wanted = {r.id for r in catalog.log_rules.values() if r.enabled and r.cluster in catalog.log_clusters}
        async with self.deps.db.read() as conn:
            have = set((await conn.execute(sa.select(runs.c.id))).scalars())
        if wanted == have:
            return
        now = self.deps.clock.now()
        for ident in sorted(wanted - have):
            with contextlib.suppress(IntegrityError):  # another instance added it first
                async with self.deps.db.begin() as conn:
                    await conn.execute(sa.insert(runs).values(id=ident, due_at=now))
        gone = sorted(have - wanted)
        if gone:
            async with self.deps.db.begin() as conn:
                await conn.execute(sa.delete(runs).where(runs.c.id.in_(gone)))
                await conn.execute(sa.delete(log_rule_state).where(log_rule_state.c.rule_id.in_(gone)))

    async def run_due_rules(self, catalog: Catalog) -> int:
        deps = self.deps
        async with deps.db.begin() as conn:
            rows = await claim(
                conn,
                runs,
                dialect=deps.db.dialect,
                owner=deps.owner,
                now=deps.clock.now(),
                lease=deps.settings.lease_seconds,
                limit=CLAIM,
            )
        # A rule's query may take longer than a lease (a busy cluster): its lease is kept while it
        # runs, so another instance does not run it (and emit its alerts) a second time.
        async with renewing(deps, runs, [row["id"] for row in rows]) as held:
            await asyncio.gather(*(self._one(catalog, row, held) for row in rows))
        return len(rows)

    async def _one(self, catalog: Catalog, row: dict[str, Any], held: set[str]) -> None:
        rule = catalog.log_rules.get(row["id"])
        if rule is None or rule.cluster not in catalog.log_clusters:
            return  # dropped by the next sync
        async with self._limit:
            if row["id"] not in held:
                return  # waited for a slot while another instance took it: theirs now
            now = self.deps.clock.now()
            lag = now - float(row["due_at"])
            try:
                run = await run_rule(
                    self.deps.db, catalog.log_clusters[rule.cluster], rule, as_of(now), self.emit
                )
                error, took = run.error, run.query_seconds
            except Exception as exc:  # a bug in one rule must not stop the others; it shows on the row
                log.exception("log rule %s failed", rule.id)
                error, took = f"{type(exc).__name__}: {exc}", 0.0
        if self.metrics is not None:
            self.metrics.log_rule_run(lag, took, error is None)
        interval = float(rule.interval)
        # Keep the cadence (due + interval); after a long stop, start again from now, not a burst.
        nxt = float(row["due_at"]) + interval
        if nxt <= now:
            nxt = now + interval
        async with self.deps.db.begin() as conn:
            await conn.execute(
                sa.update(runs)
                .where(runs.c.id == rule.id, runs.c.lease_owner == self.deps.owner)
                .values(
                    due_at=nxt, lease_owner=None, lease_until=None, last_run=now, last_lag=lag,
                    last_query_seconds=took, error=error[:1000] if error else None,
                )
            )  # fmt: skip
        held.discard(row["id"])

    async def soonest(self) -> float | None:
        async with self.deps.db.read() as conn:
            due = [await next_due(conn, runs), await next_due(conn, digest_posts_table)]
        return min((d for d in due if d is not None), default=None)

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
                soonest = await self.soonest()
            except Exception:
                log.exception("log work failed; retrying")
                soonest = None
            now = self.deps.clock.now()
            # Digests fire on cron minutes: look again just after the next minute starts.
            wait = min(MAX_SLEEP, 60.0 - now % 60.0 + 0.2)
            if soonest is not None:
                wait = min(wait, max(0.05, soonest - now))
            self._poke.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), timeout=wait)

    def poke(self) -> None:
        self._poke.set()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
