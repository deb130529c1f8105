"""Run one log rule: one query (``rule_queries.rule_body``), the pure decision (``rules.evaluate``),
state kept per key value.

The events go out through ``emit(service_id, events)``, the port the composition root wires to the
alert pipeline (triage), so routing, silences, escalation and calls apply as for any source.
A rule whose shape (type, key fields) changed since its state was kept has its firing keys resolved
and its state dropped before it is judged (``rules.restart``). A query that fails is returned as
the run's ``error`` (the worker keeps it on the rule's ``log_rule_runs`` row) and changes nothing
else: a cluster outage neither fires nor resolves log alerts.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from koban.config.model_logs import LogCluster, LogRule
from koban.db.engine import Database
from koban.db.schema_logs import log_rule_state
from koban.domain.alerts import AlertEvent
from koban.logs.client import LogQueryError, conn_of, search
from koban.logs.rule_queries import observe, rule_body
from koban.logs.rules import KeyState, evaluate, restart, shape_of

Emit = Callable[[str, list[AlertEvent]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RuleRun:
    events: list[AlertEvent] = field(default_factory=list)
    error: str | None = None
    query_seconds: float = 0.0


async def run_rule(db: Database, cluster: LogCluster, rule: LogRule, now: datetime, emit: Emit) -> RuleRun:
    body = rule_body(rule, now)
    started = time.perf_counter()
    try:
        answer = await search(conn_of(cluster), rule.index, body)
    except LogQueryError as exc:
        return RuleRun(error=str(exc), query_seconds=time.perf_counter() - started)
    took = time.perf_counter() - started
    shape = shape_of(rule)
    states, shapes = await _load(db, rule.id)
    restarted: list[AlertEvent] = []
    if shapes - {shape, None}:  # changed type or key fields since its state was kept
        restarted, states = restart(rule, states, now), {}
    new, events = evaluate(rule, states, observe(rule, answer, now), now)
    events = restarted + events
    # Raised before the state is saved: a crash in between re-raises on the next run, which the
    # pipeline dedups by key, rather than losing the page.
    if events:
        await emit(rule.service, events)
    await _save(db, rule.id, new, now, shape)
    return RuleRun(events, None, took)


async def _load(db: Database, rule_id: str) -> tuple[dict[str, KeyState], set[str | None]]:
    """Each key's state, and the shapes it was kept under."""
    async with db.read() as conn:
        rows = list(await conn.execute(sa.select(log_rule_state).where(log_rule_state.c.rule_id == rule_id)))
    return {r.key_value: KeyState(r.firing, r.clear_runs, r.last_value, r.last_seen) for r in rows}, {
        r.shape for r in rows
    }


async def _save(db: Database, rule_id: str, states: dict[str, KeyState], now: datetime, shape: str) -> None:
    async with db.begin() as conn:
        await conn.execute(sa.delete(log_rule_state).where(log_rule_state.c.rule_id == rule_id))
        if states:
            await conn.execute(
                sa.insert(log_rule_state),
                [
                    {"rule_id": rule_id, "key_value": k, "firing": s.firing, "clear_runs": s.clear_runs,
                     "last_run": now.timestamp(), "error": None, "shape": shape, "last_value": s.last,
                     "last_seen": s.last_at}
                    for k, s in states.items()
                ],
            )  # fmt: skip
