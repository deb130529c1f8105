"""The calendars' share of the worker: fetch the calendars that are due, open the tasks whose time
has come. Runs wherever the worker runs; every piece is claimed in the database, so any number of
instances may run it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import sqlalchemy as sa

from koban.calendars.refresh import Refreshed, refresh
from koban.calendars.tasks import open_due
from koban.catalog.deps import StoreDeps
from koban.db.schema_calendars import calendar_state as cs
from koban.db.schema_calendars import calendar_tasks as ct

log = logging.getLogger(__name__)
MAX_SLEEP = 30.0


class CalendarWork:
    def __init__(self, deps: StoreDeps) -> None:
        self.deps = deps
        self._stop = asyncio.Event()
        self._poke = asyncio.Event()

    async def tick(self) -> int:
        """One round: due calendars fetched, due tasks opened; how many things were done."""
        now = self.deps.clock.now()
        done = 0
        for cal in list(self.deps.catalog.calendars.values()):
            try:
                done += (await refresh(self.deps, cal, now)).fetched
            except Exception:  # one calendar's bug must not stop the others
                log.exception("calendar %s: refresh failed", cal.id)
        return done + len(await open_due(self.deps, self.deps.clock.now()))

    async def refresh_now(self, calendar_id: str) -> Refreshed:
        """On demand (the API): fetch at once, whatever the timer says."""
        cal = self.deps.catalog.calendars[calendar_id]
        res = await refresh(self.deps, cal, self.deps.clock.now(), force=True)
        await open_due(self.deps, self.deps.clock.now())
        return res

    async def soonest(self) -> float | None:
        async with self.deps.db.read() as conn:
            a = (await conn.execute(sa.select(sa.func.min(cs.c.next_fetch_at)))).scalar()
            b = (
                await conn.execute(sa.select(sa.func.min(ct.c.due)).where(ct.c.status == "pending"))
            ).scalar()
        found = [x for x in (a, b) if x is not None]
        return min(found) if found else None

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
                soonest = await self.soonest()
            except Exception:
                log.exception("calendar work failed; retrying")
                soonest = None
            now = self.deps.clock.now()
            wait = MAX_SLEEP if soonest is None else min(MAX_SLEEP, max(1.0, soonest - now))
            self._poke.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), timeout=wait)

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
