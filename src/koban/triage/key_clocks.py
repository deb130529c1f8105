"""Storage for the per-key clocks of ``domain/incident_rules.py``.

``lock_clocks`` makes sure a row exists for every key of a batch and locks them, in key order, so
two instances ingesting the same alert serialise on it (PostgreSQL: row locks; SQLite: one writer
anyway). The rows are small and expire: a key's clock only has to outlive the deliveries that may
still be duplicated or reordered, and every event for the key pushes the expiry out again.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from koban.db import schema_routing as r
from koban.db.bulk import Bulk, BulkInsert
from koban.db.uow import UnitOfWork
from koban.domain.incident_rules import KeyClock

CLOCK_TTL_SECONDS = 7 * 86400.0
_c = r.alert_clocks.c
# Driver-level executemany (db/bulk.py): a burst touches one clock per alert, twice.
_INSERT_CLOCKS = BulkInsert(r.alert_clocks, ignore_conflicts=True)
_VALUES: dict[str, sa.BindParameter[Any]] = {
    "fired_at": sa.bindparam("f"),
    "resolved_at": sa.bindparam("r"),
    "expires_at": sa.bindparam("e"),
}


def _store_stmt(dialect: str) -> sa.Executable:
    if dialect == "postgresql":  # every row exists and is locked (lock_clocks)
        return sa.update(r.alert_clocks).where(_c.key_hash == sa.bindparam("k")).values(_VALUES)
    ins = sqlite.insert(r.alert_clocks).values(key_hash=sa.bindparam("k"), **_VALUES)
    return ins.on_conflict_do_update(index_elements=[_c.key_hash], set_=_VALUES)


_STORE_CLOCKS = Bulk(_store_stmt)


def clock_key(service_id: str, dedup_key: str) -> str:
    """One clock per alert of a service, whatever incident (group) its sender puts it in: the same
    alert sent by Prometheus straight to ``/api/v2/alerts`` and relayed by an Alertmanager (its
    fingerprint is the dedup key on both paths, the group key only on the second) is one alert,
    so the copy that arrives second is a repeat of what the first opened, not a new incident."""
    return hashlib.sha256(f"{service_id}\x1f{dedup_key}".encode()).hexdigest()


async def lock_clocks(uow: UnitOfWork, keys: set[str], now: float) -> dict[str, KeyClock]:
    if not keys:
        return {}
    ordered = sorted(keys)
    if uow.dialect == "postgresql":
        # A row to lock for every key, so two instances ingesting the same alert serialise on it.
        # SQLite needs none: the batch's transaction holds the one write lock, and store_clocks
        # upserts (a burst of new keys was one more 6,000-row statement).
        expires = now + CLOCK_TTL_SECONDS
        await _INSERT_CLOCKS.run(
            uow.conn,
            [{"key_hash": k, "fired_at": None, "resolved_at": None, "expires_at": expires} for k in ordered],
        )
    q = sa.select(_c.key_hash, _c.fired_at, _c.resolved_at, _c.expires_at).where(_c.key_hash.in_(ordered))
    if uow.dialect == "postgresql":
        q = q.order_by(_c.key_hash).with_for_update()
    out: dict[str, KeyClock] = {}
    for row in await uow.conn.execute(q):
        # An expired row is forgotten history, even if the cleanup has not deleted it yet.
        out[row.key_hash] = KeyClock() if row.expires_at < now else KeyClock(row.fired_at, row.resolved_at)
    return out


async def store_clocks(uow: UnitOfWork, clocks: dict[str, KeyClock], now: float) -> None:
    if not clocks:
        return
    rows = [
        {"k": k, "f": c.fired_at, "r": c.resolved_at, "e": now + CLOCK_TTL_SECONDS}
        for k, c in sorted(clocks.items())
    ]
    await _STORE_CLOCKS.run(uow.conn, rows)


async def forget_expired(uow: UnitOfWork, now: float) -> int:
    res = await uow.conn.execute(sa.delete(r.alert_clocks).where(_c.expires_at < now))
    return res.rowcount or 0
