"""The inbox drain: however deliveries are batched, the incidents end as if applied one by one.

Deliveries (PagerDuty events ordered by arrival, Prometheus alerts with their own times or the
receipt's, Alertmanager webhook groups; repeats included, many of them) are committed to the inbox,
then drained once one row at a time with nothing collapsed and once in random batch sizes with
repeats collapsed (``triage/repeats.py``, ``ingest/collapse.py``), each on a fresh database; the
incidents, their alert rows (one row standing for ``repeats`` deliveries) and their timelines must
be the same. The fresh-first claim is also checked on PostgreSQL (its claim takes an advisory lock
and SKIP LOCKED).
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
# No startsAt: the alert's time is the delivery's receipt, so repeats differ in their times only.
PROMETHEUS_RECEIPT = st.builds(
    lambda hosts: (
        "in-prometheus",
        "prometheus",
        [{"labels": {"alertname": "Up", "instance": h}} for h in hosts],
    ),
    st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=2, unique=True),
)
ALERTMANAGER = st.builds(
    lambda group, members: (
        "in-alertmanager",
        "alertmanager",
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{group}"}}',
            "status": "firing",
            "alerts": [
                {
                    "status": status,
                    "labels": {"alertname": group, "instance": host},
                    "startsAt": TIMES[0],
                    **({"endsAt": TIMES[1]} if status == "resolved" else {}),
                }
                for host, status in members
            ],
        },
    ),
    st.sampled_from(["G1", "G2"]),
    st.lists(
        st.tuples(st.sampled_from(["x", "y"]), st.sampled_from(["firing", "firing", "resolved"])),
        min_size=1,
        max_size=2,
        unique_by=lambda m: m[0],
    ),
)
DELIVERIES = st.lists(
    st.one_of(PAGERDUTY, PROMETHEUS, PROMETHEUS_RECEIPT, ALERTMANAGER), min_size=1, max_size=8
)


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
    *,
    collapse: bool = True,
    details: bool = True,
) -> list[list[str]]:
    """``fresh``: the deliveries marked as holding an alert new to the edge (claimed first);
    ``collapse`` False: every delivery's every event applied alone (the reference)."""
    with tempfile.TemporaryDirectory() as tmp, _database(tmp, pg_template) as url:
        # The clock sits before the Prometheus alerts' endsAt: which of them fire depends on it.
        clock = FakeClock(T0)
        async with running_system(url, s.edge_config(), Path(tmp), clock=clock) as k:
            k.drain.collapse = collapse
            for at, (integration, parser, body) in enumerate(deliveries):
                n = len(body) if isinstance(body, list) else len(body.get("alerts", [1]))
                mark = at in fresh and parser == "prometheus"  # the edge marks no other source
                delivery = Delivery(integration, parser, clock.now(), n, orjson.dumps(body), mark)
                await k.inbox.submit(delivery, None)
                clock.advance(1)
            sizes = iter(batches)
            while await k.drain.drain_once(next(sizes, rest)):
                pass
            async with k.db.read() as conn:
                i, a, tl = t.incidents.c, t.alerts.c, t.timeline.c
                incidents = (
                    await conn.execute(
                        sa.select(
                            i.id, i.incident_key, i.status, i.alert_count, i.severity, i.updated_at,
                            i.acknowledged_at, i.resolved_at, i.esc_version, i.members, i.details,
                        )
                    )
                ).all()  # fmt: skip
                alerts = await conn.execute(
                    sa.select(a.incident_id, a.dedup_key, a.action, a.muted_reason, a.received_at, a.repeats)
                )
                timeline = await conn.execute(sa.select(tl.incident_id, tl.kind, tl.at, tl.data))
                # Every stored outcome, not just the incidents: alert rows (their incident and
                # muted reason) and the timeline end the same however the rows were batched and
                # collapsed. A row standing for n deliveries counts n times. Incidents are compared
                # by key, not by id: claimed out of arrival order (fresh rows) or with their
                # repeats gathered, incidents may open in another order.
                key = {r.id: r.incident_key for r in incidents}
                return [
                    # Details are the opening delivery's: a fresh row claimed first may open the
                    # incident with its own receipt as startsAt.
                    sorted(repr((r.incident_key, *r[2:-1], r[-1] if details else None)) for r in incidents),
                    sorted(repr((key.get(r[0]), *r[1:5])) for r in alerts for _ in range(r.repeats)),
                    sorted(
                        repr((key.get(r[0]), r.kind, r.at))
                        for r in timeline
                        for _ in range((r.data or {}).get("repeats", 1))
                    ),
                ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DELIVERIES, st.data())
async def test_any_batching_of_inbox_deliveries_ends_as_one_by_one(deliveries, data):
    # Repeats are part of the input: the same delivery again, as a retrying sender would.
    repeats = data.draw(st.lists(st.integers(0, len(deliveries) - 1), max_size=3))
    deliveries = deliveries + [deliveries[i] for i in repeats]
    batches = data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=4))
    one_by_one = await _final_state(deliveries, [], 1, collapse=False)
    assert await _final_state(deliveries, batches, data.draw(st.integers(2, 20))) == one_by_one


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DELIVERIES, st.data())
async def test_a_flood_of_repeats_collapsed_ends_as_every_delivery_applied_alone(deliveries, data):
    # A flood: the same few bodies re-sent many times, interleaved, drained in batches that hold
    # many copies of each (gathered by body, then by alert across bodies).
    order = data.draw(st.lists(st.integers(0, len(deliveries) - 1), min_size=1, max_size=30))
    flood = [deliveries[i] for i in order]
    one_by_one = await _final_state(flood, [], 1, collapse=False)
    batches = data.draw(st.lists(st.integers(2, 30), min_size=1, max_size=3))
    assert await _final_state(flood, batches, data.draw(st.integers(2, 30))) == one_by_one


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DELIVERIES, st.data())
async def test_claiming_fresh_prometheus_deliveries_first_ends_as_in_arrival_order(deliveries, data):
    # Fresh rows (an alert new to the edge: ingest/novelty.py) jump the queue; their events carry
    # their own times, so every incident, alert row and timeline entry ends the same.
    fresh = frozenset(data.draw(st.sets(st.integers(0, len(deliveries) - 1))))
    batches = data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=4))
    in_order = await _final_state(deliveries, [], 1, collapse=False, details=False)
    got = await _final_state(deliveries, batches, data.draw(st.integers(1, 20)), fresh, details=False)
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
    in_order = await _final_state(deliveries, [], 1, pg_template=pg_template, collapse=False, details=False)
    got = await _final_state(
        deliveries, batches, data.draw(st.integers(1, 20)), fresh, pg_template, details=False
    )
    assert got == in_order


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DELIVERIES, st.data())
async def test_on_postgresql_a_flood_of_repeats_collapsed_ends_as_every_delivery_applied_alone(
    pg_template, deliveries, data
):
    if pg_template is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    order = data.draw(st.lists(st.integers(0, len(deliveries) - 1), min_size=1, max_size=30))
    flood = [deliveries[i] for i in order]
    one_by_one = await _final_state(flood, [], 1, pg_template=pg_template, collapse=False)
    batches = data.draw(st.lists(st.integers(2, 30), min_size=1, max_size=3))
    got = await _final_state(flood, batches, data.draw(st.integers(2, 30)), pg_template=pg_template)
    assert got == one_by_one
