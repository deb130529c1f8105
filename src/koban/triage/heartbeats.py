"""Heartbeats (dead-man's switches): the I/O around ``sources/heartbeat.on_ping`` / ``evaluate``.

State is a ``heartbeat_state`` row; its ``due_at`` is when the check next needs a look (grace
starts, or it goes down). Any instance's worker claims due rows with a lease (``run_due``); a ping
and a check on the same heartbeat serialise on the row lock. A resulting trigger or resolve goes
into the alert pipeline in the same transaction as the new state (Healthchecks' "flip" as one
commit), so the incident opens, and later resolves, exactly once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from koban.catalog.routing_apply import ensure_heartbeat_state
from koban.config.model_routing import Heartbeat
from koban.db import schema_routing as r
from koban.db.leased_rows import run_due_rows
from koban.db.uow import UnitOfWork
from koban.sources.heartbeat import CheckState, CheckStatus, PingKind, Result, evaluate, on_ping
from koban.triage.alerts import process_service_alerts
from koban.triage.group_codec import dt, ts

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps
_s = r.heartbeat_state.c


def check_state(hb: Heartbeat, row: dict[str, Any]) -> CheckState:
    return CheckState(
        check_id=hb.id,
        name=hb.name or hb.id,
        period=timedelta(seconds=hb.period),
        grace=timedelta(seconds=hb.grace),
        status=CheckStatus(row["status"]),
        last_ping_at=dt(row["last_ping_at"]),
        started_at=dt(row["started_at"]),
        severity=hb.severity,
    )


async def _locked(uow: UnitOfWork, ident: str, owner: str | None = None) -> dict[str, Any] | None:
    q = sa.select(r.heartbeat_state).where(_s.id == ident)
    if owner is not None:
        q = q.where(_s.lease_owner == owner)
    if uow.dialect == "postgresql":
        q = q.with_for_update()
    row = (await uow.conn.execute(q)).mappings().first()
    return dict(row) if row else None


async def _save_and_alert(
    deps: StoreDeps, uow: UnitOfWork, hb: Heartbeat, result: Result, now: float, release: bool
) -> CheckState:
    state, event, next_check = result
    values: dict[str, Any] = {
        "status": state.status.value,
        "last_ping_at": ts(state.last_ping_at),
        "started_at": ts(state.started_at),
        "due_at": ts(next_check),
        "updated_at": now,
    }
    if release:
        values.update(lease_owner=None, lease_until=None)
    await uow.conn.execute(sa.update(r.heartbeat_state).where(_s.id == hb.id).values(**values))
    if event is not None:
        await process_service_alerts(uow, deps.catalog, hb.service, [event], now)
    return state


async def ping(deps: StoreDeps, hb: Heartbeat, kind: PingKind, now: float) -> CheckState:
    async with deps.db.begin() as conn:
        uow = UnitOfWork(conn, deps.db.dialect)
        row = await _locked(uow, hb.id)
        if row is None:  # created through the API a moment ago on another instance
            await ensure_heartbeat_state(conn, hb.id, now)
            row = await _locked(uow, hb.id)
            assert row is not None
        state = await _save_and_alert(deps, uow, hb, on_ping(check_state(hb, row), kind, dt(now)), now, False)  # type: ignore[arg-type]
        await uow.flush()
    if uow.wake:
        deps.wake()
    return state


async def run_due(deps: StoreDeps, limit: int = 100) -> int:
    return await run_due_rows(
        deps,
        r.heartbeat_state,
        lambda deps, row: _check(deps, row["id"]),
        what="heartbeat check",
        limit=limit,
    )


async def _check(deps: StoreDeps, ident: str) -> None:
    now = deps.clock.now()
    hb = deps.catalog.routing.heartbeats.get(ident)
    async with deps.db.begin() as conn:
        uow = UnitOfWork(conn, deps.db.dialect)
        row = await _locked(uow, ident, owner=deps.owner)
        if row is None:
            return  # lease lost: whoever holds it now checks
        if hb is None:
            # Removed from the config: stop checking, keep the row for the API's history.
            await conn.execute(
                sa.update(r.heartbeat_state).where(_s.id == ident).values(due_at=None, lease_owner=None)
            )
            return
        await _save_and_alert(deps, uow, hb, evaluate(check_state(hb, row), dt(now)), now, True)  # type: ignore[arg-type]
        await uow.flush()
    if uow.wake:
        deps.wake()


def describe(hb: Heartbeat, row: dict[str, Any] | None) -> dict[str, Any]:
    state = check_state(hb, row or {"status": "new", "last_ping_at": None, "started_at": None})
    down_at = None
    if state.last_ping_at is not None:
        down_at = ts(state.last_ping_at + state.period + state.grace)
    return {
        **hb.model_dump(mode="json"),
        "status": state.status.value,
        "last_ping_at": ts(state.last_ping_at),
        "down_after": down_at,
        "next_check_at": (row or {}).get("due_at"),
    }
