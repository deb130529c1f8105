"""The reports' share of the worker: queue the scheduled reports that are due, send what is queued,
and keep the summaries up to date (settled days and incidents: ``summaries.py``,
``incident_facts.py``).

Runs wherever the worker runs; every report is claimed in the database (``scheduled.py``), so any
number of instances may run it. Scans at most every ``SCAN_EVERY`` seconds, and at once when the
config changed (a new schedule may be due already).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from koban.catalog.deps import StoreDeps
from koban.channels.base import Channel
from koban.db.queue import next_due
from koban.db.schema_reports import report_deliveries
from koban.reports import incident_facts, summaries
from koban.reports.scheduled import scan, send_due

log = logging.getLogger("koban.reports")
SCAN_EVERY = 60.0
MAX_SLEEP = 30.0


class ReportWork:
    def __init__(self, deps: StoreDeps, channel: Callable[[str], Channel]) -> None:
        self.deps = deps
        self.channel = channel
        self.scanned = float("-inf")
        self.seen: tuple = ()
        self._stop = asyncio.Event()

    async def tick(self) -> int:
        """One round: due reports queued, queued reports sent; how many things were done."""
        now = self.deps.clock.now()
        done = 0
        fp = self.deps.catalog.fingerprint
        if now - self.scanned >= SCAN_EVERY or fp != self.seen:
            self.scanned, self.seen = now, fp
            # Summaries first: a report queued now reads them (reports/summaries.py, incident_facts.py).
            done += await summaries.settle(self.deps.db, now) + await incident_facts.settle(self.deps.db, now)
            done += await scan(self.deps, now)
        return done + await send_due(self.deps, self.channel)

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
                async with self.deps.db.read() as conn:
                    soonest = await next_due(conn, report_deliveries)
            except Exception:
                log.exception("report work failed; retrying")
                soonest = None
            now = self.deps.clock.now()
            wait = MAX_SLEEP if soonest is None else min(MAX_SLEEP, max(1.0, soonest - now))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=wait)

    def stop(self) -> None:
        self._stop.set()
