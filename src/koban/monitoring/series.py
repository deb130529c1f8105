"""Series ids: the small integer that names one (monitor, location) in raw results and rollups.

Writers (a prober, its rollup buffer) look ids up through ``SeriesIds``, which remembers them: a
series is created once, with an insert that ignores a conflict (another prober of the same monitor
at another shard or location may create its own series at the same moment), then read back.
Readers use ``series_of`` for one monitor, or ``series_map`` for many.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db.engine import Database
from koban.db.schema_probes import probe_series

CHUNK = 500
SeriesKey = tuple[str, str]  # (monitor id, location)


class SeriesIds:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._ids: dict[SeriesKey, int] = {}

    def known(self, key: SeriesKey) -> int | None:
        return self._ids.get(key)

    async def ids(self, keys: Iterable[SeriesKey]) -> dict[SeriesKey, int]:
        """The id of each key, creating the missing series."""
        missing = sorted({k for k in keys if k not in self._ids})
        for i in range(0, len(missing), CHUNK):
            chunk = missing[i : i + CHUNK]
            rows = [{"monitor_id": m, "location": loc} for m, loc in chunk]
            ins = _insert_ignore(self.db.dialect)
            async with self.db.begin() as conn:
                await conn.execute(ins, rows)
            async with self.db.read() as conn:
                c = probe_series.c
                q = sa.select(c.id, c.monitor_id, c.location).where(c.monitor_id.in_({m for m, _ in chunk}))
                for r in await conn.execute(q):
                    self._ids[(r.monitor_id, r.location)] = r.id
        return self._ids

    def forget(self, monitor_ids: set[str]) -> None:
        for key in [k for k in self._ids if k[0] in monitor_ids]:
            del self._ids[key]


def _insert_ignore(dialect: str) -> sa.Insert:
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(probe_series).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(probe_series).on_conflict_do_nothing()


async def series_of(conn: AsyncConnection, monitor_id: str, location: str | None = None) -> dict[int, str]:
    """Series id -> location, of one monitor (at one location when given)."""
    c = probe_series.c
    q = sa.select(c.id, c.location).where(c.monitor_id == monitor_id)
    if location is not None:
        q = q.where(c.location == location)
    return {r.id: r.location for r in await conn.execute(q)}


async def series_map(conn: AsyncConnection, monitor_ids: Sequence[str]) -> dict[int, SeriesKey]:
    """Series id -> (monitor, location), of these monitors."""
    out: dict[int, SeriesKey] = {}
    c = probe_series.c
    for i in range(0, len(monitor_ids), CHUNK):
        q = sa.select(c.id, c.monitor_id, c.location).where(
            c.monitor_id.in_(list(monitor_ids[i : i + CHUNK]))
        )
        out.update({r.id: (r.monitor_id, r.location) for r in await conn.execute(q)})
    return out


async def all_series(conn: AsyncConnection) -> list[int]:
    return list((await conn.execute(sa.select(probe_series.c.id).order_by(probe_series.c.id))).scalars())
