"""Cron expressions for maintenance windows ("cron + duration"), through ``cronsim`` (the
maintained parser healthchecks uses): five fields, names (``MON``, ``JAN``), ``L``, ``#``, and
Vixie cron's day rule (day-of-month and day-of-week combine with OR only when neither field starts
with ``*``), evaluated in the window's time zone with cron's DST behaviour.

The ``@`` nicknames (``@daily``...) are expanded here: cronsim reads five fields only.
A hand-written matcher was wrong on ``*/2`` in the day field and failed on names with a raw
``int()`` error; it also walked minute by minute.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime, timedelta

from cronsim import CronSim, CronSimError

NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_ANY = datetime(2000, 1, 1)  # noqa: DTZ001  (any start: parsing does not depend on it)


@functools.lru_cache(maxsize=1024)
def parse_cron(expr: str) -> str:
    """``expr`` checked and with its nickname expanded; ValueError says what is wrong."""
    fields = NICKNAMES.get(expr.strip().lower(), expr.strip())
    try:
        CronSim(fields, _ANY)
    except CronSimError as exc:
        raise ValueError(f"invalid cron expression {expr!r}: {exc}") from None
    return fields


def last_fire(expr: str, at: datetime) -> datetime | None:
    """The latest time at or before ``at`` (aware, in the window's zone) when ``expr`` fires."""
    after = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    try:
        return next(CronSim(parse_cron(expr), after, reverse=True))
    except StopIteration:  # an expression that never fires (31 2 * *)
        return None


def fires_after(expr: str, start: datetime) -> Iterator[datetime]:
    """The times ``expr`` fires after ``start`` (aware, in the window's zone), in order."""
    return iter(CronSim(parse_cron(expr), start.replace(second=0, microsecond=0)))
