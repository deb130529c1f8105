"""The response clocks the database makes (``reports/response_load.py``) are the ones
``response.clocks`` makes from the raw events and settled facts, incident by incident and report by
report, on random incidents; and so are the time-to-wake moments ``load.wake_moments`` reads
(every one, or a page of them) and the stages' durations ``wake_load.values`` computes in SQL,
from settled facts without records (acknowledged by people or sources, twice at the same moment, reassigned,
open, settled or edited since, with events after ``as_of``)."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.db.schema_reports import report_incident_facts
from koban.reports import incident_facts, load, response_load, wake_load
from koban.reports.records import Period
from koban.reports.response import DIMENSIONS, clocks, response_of
from koban.reports.wake import rows_of, total_of, wake, wake_of
from tests.reports import month as mo
from tests.support.system import running_system

T0 = mo.MONTH
TEAMS = {"web": "ops", "api": None}
EVENT = st.tuples(
    st.integers(0, 7200),
    st.sampled_from(["acknowledged", "reassigned", "resolved", "escalated", "call.answered", "probe.failed"]),
    st.sampled_from([None, "", "alice", "bob"]),
)
INCIDENT = st.fixed_dictionaries(
    {
        "created": st.integers(-40 * 86400, 30 * 86400),
        "service": st.sampled_from(["web", "api"]),
        "severity": st.sampled_from(["critical", "warning"]),
        "events": st.lists(EVENT, max_size=5),
        "resolved": st.none() | st.integers(0, 9000),
        # updated after its facts were made: they no longer stand
        "edited": st.booleans(),
        "starts": st.none() | st.integers(-60, 600),  # the alert's startsAt, before (or after) it
    }
)


async def _seed(k, found: list[dict]) -> None:
    async with k.db.begin() as conn:
        for table in (t.timeline, t.alerts, t.incidents, report_incident_facts):
            await conn.execute(sa.delete(table))
        for n, s in enumerate(found, start=1):
            created = T0 + s["created"]
            resolved = None if s["resolved"] is None else created + s["resolved"]
            await conn.execute(
                sa.insert(t.incidents).values(
                    id=n, service_id=s["service"], incident_key=f"k{n}", severity=s["severity"], summary="",
                    status="resolved" if resolved else "triggered", created_at=created, updated_at=created,
                    resolved_at=resolved,
                )
            )  # fmt: skip
            if s["starts"] is not None:
                await conn.execute(
                    sa.insert(t.alerts).values(
                        incident_id=n, service_id=s["service"], dedup_key=f"k{n}", action="trigger",
                        severity="critical", summary="", event={"occurred_at": created - s["starts"]},
                        received_at=created,
                    )
                )  # fmt: skip
            for at, kind, actor in s["events"]:
                await conn.execute(
                    sa.insert(t.timeline).values(
                        incident_id=n, at=created + at, kind=kind, actor=actor, data={}
                    )
                )
    await incident_facts.settle(k.db, T0 + 60 * 86400, limit=10_000)
    async with k.db.begin() as conn:
        edited = [n for n, s in enumerate(found, start=1) if s["edited"]]
        await conn.execute(sa.update(t.incidents).where(t.incidents.c.id.in_(edited)).values(updated_at=1.0))


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    found=st.lists(INCIDENT, max_size=12),
    as_of_offset=st.integers(-30 * 86400, 40 * 86400),
    by=st.sampled_from(DIMENSIONS),
)
async def test_the_database_makes_every_incidents_clocks_as_the_raw_events_do(
    db_url, tmp_path_factory, found, as_of_offset, by
):
    async with running_system(
        db_url, mo.config(), tmp_path_factory.mktemp("k"), clock=FakeClock(mo.AS_OF)
    ) as k:
        await _check(k, found, T0 + as_of_offset, by)


async def _check(k, found: list[dict], as_of: float, by: str) -> None:
    await _seed(k, found)
    p = Period(T0, T0 + 30 * 86400, "Asia/Tokyo")
    async with k.db.read() as conn:
        raw = await load.incidents(conn, p.previous.since, p.until, None, TEAMS, as_of)
        made = await response_load.clocks(conn, p.previous.since, p.until, None, TEAMS, as_of)
        moments = await load.wake_moments(conn, p.since, p.until, None, TEAMS, as_of)
        values = await wake_load.values(conn, p.since, p.until, None, TEAMS, as_of)
        page = await load.wake_moments(conn, p.since, p.until, None, TEAMS, as_of, limit=3, offset=2)
    want = [clocks(i, as_of) for i in raw]
    assert sorted(made) == sorted(want)
    assert response_of(made, p, by) == response_of(want, p, by)
    woken = wake(raw, p, as_of)
    assert wake_of(moments) == woken
    assert total_of(values) == woken["total"]  # the stages' durations made in SQL
    assert rows_of(page) == woken["incidents"][2:5]
