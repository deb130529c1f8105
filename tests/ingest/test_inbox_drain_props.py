"""The inbox drain: however deliveries are batched, the incidents end as if applied one by one.

Deliveries (PagerDuty events ordered by arrival, Prometheus alerts with their own times, repeats
included) are committed to the inbox, then drained once one row at a time and once in random batch
sizes, each on a fresh database; the incidents (key, status, alert count) must be the same. The
fresh-first claim is also checked on PostgreSQL (its claim takes an advisory lock and SKIP LOCKED).
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.ingest.inbox import Delivery
from tests.conftest import PG_ENV, _pg_admin_url, _pg_exec
from tests.ingest import support as s
from tests.support.system import running_system

T0 = 1_800_000_000.0
TIMES = ["2027-01-15T08:00:00Z", "2027-01-15T08:01:00Z", "2027-01-15T08:02:00Z"]

PAGERDUTY = st.builds(
    lambda action, key, stamp: (
        "in-pagerduty",
        "pagerduty",
        {
            "event_action": action,
            "dedup_key": key,
            "payload": {"summary": f"{key} down", "source": "db", "severity": "critical"}
            | ({"timestamp": stamp} if stamp else {}),
        },
    ),
    st.sampled_from(["trigger", "trigger", "resolve", "acknowledge"]),
    st.sampled_from(["a", "b"]),
    st.sampled_from([None, *TIMES]),
)
PROMETHEUS = st.builds(
    lambda host, starts, ends: (
        "in-prometheus",
        "prometheus",
        [
            {"labels": {"alertname": "Down", "instance": host}, "startsAt": starts}
            | ({"endsAt": ends} if ends else {})
        ],
    ),
    st.sampled_from(["x", "y"]),
    st.sampled_from(TIMES[:2]),
    st.sampled_from([None, TIMES[2], "2027-01-15T07:59:00Z"]),
)
DELIVERIES = st.lists(st.one_of(PAGERDUTY, PROMETHEUS), min_size=1, max_size=12)


@contextmanager
def _database(tmp: str, pg_template: str | None) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database copied from the migrated template."""
    if pg_template is None:
        yield f"sqlite:///{Path(tmp) / 'koban.db'}"
        return
    admin = _pg_admin_url()
    assert admin
    name = f"koban_p_{secrets.token_hex(5)}"
    _pg_exec(admin, f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_exec(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _final_state(
    deliveries: list[tuple[str, str, Any]],
    batches: list[int],
    rest: int,
    fresh: frozenset[int] = frozenset(),
    pg_template: str | None = None,
) -> list[list[tuple]]:
    """``fresh``: the deliveries marked as holding an alert new to the edge (claimed first)."""
    with tempfile.TemporaryDirectory() as tmp, _database(tmp, pg_template) as url:
        # The clock sits before the Prometheus alerts' endsAt: which of them fire depends on it.
        clock = FakeClock(T0)
        async with running_system(url, s.edge_config(), Path(tmp), clock=clock) as k:
            for at, (integration, parser, body) in enumerate(deliveries):
                n = len(body) if isinstance(body, list) else 1
                mark = at in fresh and parser == "prometheus"  # the edge marks no other source
                delivery = Delivery(integration, parser, clock.now(), n, orjson.dumps(body), mark)
                await k.inbox.submit(delivery, None)
                clock.advance(1)
            sizes = iter(batches)
            while await k.drain.drain_once(next(sizes, rest)):
                pass
            async with k.db.read() as conn:
                i, a, tl = t.incidents.c, t.alerts.c, t.timeline.c
                incidents = await conn.execute(
                    sa.select(
                        i.id, i.incident_key, i.status, i.alert_count, i.severity, i.updated_at,
                        i.acknowledged_at, i.resolved_at, i.esc_version, i.members,
                    )
                )  # fmt: skip
                alerts = await conn.execute(
                    sa.select(a.incident_id, a.dedup_key, a.action, a.muted_reason, a.received_at)
                )
                timeline = await conn.execute(sa.select(tl.incident_id, tl.kind, tl.at))
                # Every stored outcome, not just the incidents: alert rows (their incident and
                # muted reason) and the timeline end the same however the rows were batched.
                if not fresh:
                    return [
                        sorted(tuple(map(repr, r)) for r in rows) for rows in (incidents, alerts, timeline)
                    ]
                # Claimed out of arrival order, incidents may open in another order: compare them
                # by key instead of by id (which follows the order they opened in).
                incidents = incidents.all()
                key = {r.id: r.incident_key for r in incidents}
                return [
                    sorted(repr((r.incident_key, *r[2:])) for r in incidents),
                    sorted(repr((key.get(r[0]), *r[1:])) for r in alerts),
                    sorted(repr((key.get(r[0]), *r[1:])) for r in timeline),
                ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DELIVERIES, st.data())
async def test_any_batching_of_inbox_deliveries_ends_as_one_by_one(deliveries, data):
    # Repeats are part of the input: the same delivery again, as a retrying sender would.
    repeats = data.draw(st.lists(st.integers(0, len(deliveries) - 1), max_size=3))
    deliveries = deliveries + [deliveries[i] for i in repeats]
    batches = data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=4))
    one_by_one = await _final_state(deliveries, [], 1)
    assert await _final_state(deliveries, batches, data.draw(st.integers(2, 20))) == one_by_one


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DELIVERIES, st.data())
async def test_claiming_fresh_prometheus_deliveries_first_ends_as_in_arrival_order(deliveries, data):
    # Fresh rows (an alert new to the edge: ingest/novelty.py) jump the queue; their events carry
    # their own times, so every incident, alert row and timeline entry ends the same.
    fresh = frozenset(data.draw(st.sets(st.integers(0, len(deliveries) - 1))))
    batches = data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=4))
    in_order = await _final_state(deliveries, [], 1, frozenset({-1}))
    # -1 marks nothing but has both states compared by incident key.
    got = await _final_state(deliveries, batches, data.draw(st.integers(1, 20)), fresh | {-1})
    assert got == in_order


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DELIVERIES, st.data())
async def test_on_postgresql_claiming_fresh_deliveries_first_ends_as_in_arrival_order(
    pg_template, deliveries, data
):
    # The same property through PostgreSQL's claim (advisory lock, FOR UPDATE SKIP LOCKED).
    if pg_template is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    fresh = frozenset(data.draw(st.sets(st.integers(0, len(deliveries) - 1))))
    batches = data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=4))
    in_order = await _final_state(deliveries, [], 1, frozenset({-1}), pg_template)
    got = await _final_state(deliveries, batches, data.draw(st.integers(1, 20)), fresh | {-1}, pg_template)
    assert got == in_order
