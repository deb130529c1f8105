"""The summary tables change how long a report takes, never what it says: every report over the
month of raw events (tests/reports/month.py) is the same before and after the summaries are made,
and after a change the summaries did not see (a monitor moved to another service)."""

from __future__ import annotations

import asyncio
import json

import sqlalchemy as sa
from typer.testing import CliRunner

from koban.cli.main import app
from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.db.schema_probes import monitors, probe_rollups
from koban.db.schema_reports import (
    report_incident_facts,
    report_monitor_days,
    report_monitor_running,
    report_summarized_days,
)
from koban.reports import load
from koban.reports.availability_load import availability_input, running_totals
from koban.reports.build import REPORTS, Query, build
from koban.reports.maintenance import service_maintenance
from koban.reports.records import MonitorInfo, Period
from koban.reports.summaries import rebuild_all, settle
from tests.reports import month as mo
from tests.support.system import running_system

SPECS = mo.HAND + mo.random_incidents()
PERIODS = [
    Period(mo.MONTH, mo.END, "UTC"),  # whole UTC days: summaries all along but the maintenance day
    Period(mo.MONTH - 9 * 3600, mo.END - 9 * 3600, "Asia/Tokyo"),  # ragged ends read from minutes
    Period(mo.at(2026, 3, 14, 12), mo.at(2026, 3, 21, 7, 30), "Europe/Paris"),  # m-new added within
]


async def every_report(k, services=None) -> list[dict]:
    out = []
    for p in PERIODS:
        for name in REPORTS:
            q = Query(name, p, "person" if name == "response" else None)
            out.append(await build(k.db, k.catalog, q, mo.AS_OF, services))
    return out


async def count(k, table: sa.Table) -> int:
    async with k.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar() or 0)


async def test_every_report_says_the_same_from_the_summaries_as_from_the_raw_events(db_url, tmp_path):
    async with running_system(db_url, mo.config(), tmp_path, clock=FakeClock(mo.AS_OF)) as k:
        await mo.seed_incidents(k.db, SPECS)
        await mo.seed_probes(k.db)
        raw, raw_api = await every_report(k), await every_report(k, ["api"])
        made = await rebuild_all(k.db, mo.AS_OF)
        assert made["days"] >= 31 and made["incidents"] > 0
        assert await count(k, report_incident_facts) == made["incidents"]
        assert await count(k, report_monitor_days) > 0
        assert await every_report(k) == raw
        assert await every_report(k, ["api"]) == raw_api
        await read_from_the_summaries(k)
        # Summed while m-new belonged to web: those service days no longer describe web or api as
        # the config has them now, so their days are read from the minutes again.
        async with k.db.begin() as conn:
            await conn.execute(sa.update(monitors).where(monitors.c.id == "m-new").values(service_id="web"))
        await rebuild_all(k.db, mo.AS_OF)
        assert await every_report(k) == raw


async def read_from_the_summaries(k) -> None:
    """Not a fallback all along: summed days and settled incidents are what the reports read."""
    p = PERIODS[0]
    async with k.db.read() as conn:
        found = await load.incidents(conn, p.since, p.until, None, {}, mo.AS_OF)
        mons = [MonitorInfo(m.id, m.id, m.service) for m in k.catalog.monitors.values()]
        maint = service_maintenance(k.catalog.routing.windows, {"web", "api"}, p.since, p.until)
        data = await availability_input(conn, mons, maint, p, every=True)
    assert sum(1 for i in found if i.facts is not None) > len(found) // 2
    assert data.monitor_days["m-web"].measured_minutes > 0
    web_minutes = [m.start for m in data.minutes if m.monitor == "m-web"]
    # Only the day the maintenance window touches comes from the minutes.
    assert web_minutes and mo.at(2026, 3, 15) <= min(web_minutes) and max(web_minutes) < mo.at(2026, 3, 16)


async def test_the_worker_sums_settled_days_a_few_at_a_time_and_a_rebuild_starts_over(db_url, tmp_path):
    async with running_system(db_url, mo.config(), tmp_path, clock=FakeClock(mo.AS_OF)) as k:
        await mo.seed_probes(k.db)
        assert await settle(k.db, mo.AS_OF, max_days=2) == 2
        assert await settle(k.db, mo.AS_OF, max_days=2) == 2
        assert await count(k, report_summarized_days) == 4
        made = await rebuild_all(k.db, mo.AS_OF)
        assert await count(k, report_summarized_days) == made["days"]


async def test_an_incident_changed_or_resolved_too_recently_is_read_from_its_raw_events(db_url, tmp_path):
    async with running_system(db_url, mo.config(), tmp_path, clock=FakeClock(mo.AS_OF)) as k:
        await mo.seed_incidents(k.db, SPECS)
        await rebuild_all(k.db, mo.AS_OF)
        p = PERIODS[0]

        async def with_facts(as_of: float) -> set[int]:
            async with k.db.read() as conn:
                found = await load.incidents(conn, p.since, p.until, None, {}, as_of)
            return {i.id for i in found if i.facts is not None}

        settled = await with_facts(mo.AS_OF)
        assert {101, 104, 110} <= settled and not {112, 113} & settled  # 112 and 113 are still open
        # A report made within an hour of 111's resolution reads it raw (events may still come).
        assert 111 not in await with_facts(mo.at(2026, 3, 30, 8, 30))
        async with k.db.begin() as conn:  # reopened, edited: its facts no longer describe it
            await conn.execute(
                sa.update(t.incidents).where(t.incidents.c.id == 104).values(updated_at=mo.AS_OF)
            )
        assert 104 not in await with_facts(mo.AS_OF)


async def _seeded(url: str, tmp_path) -> None:
    async with running_system(url, mo.config(), tmp_path, clock=FakeClock(mo.AS_OF)) as k:
        await mo.seed_incidents(k.db, SPECS)
        await mo.seed_probes(k.db)


def test_koban_report_rebuild_summaries_makes_them_from_the_raw_rows(tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'koban.db'}"
    asyncio.run(_seeded(db_url, tmp_path))
    monkeypatch.setenv("KOBAN_DATABASE_URL", db_url)
    monkeypatch.setenv("KOBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KOBAN_SECRET_KEY", "test-secret")
    out = CliRunner().invoke(app, ["report", "rebuild-summaries"])
    assert out.exit_code == 0, out.output
    made = json.loads(out.output)
    # March's days of minutes, and every resolved incident (the real clock is long past them).
    assert made["days"] == 31 and made["incidents"] == sum(1 for s in SPECS if s.resolved)


async def test_days_whose_minute_rollups_were_pruned_are_summed_from_their_hours_as_reports_read_them(
    db_url, tmp_path
):
    """Minute rollups are kept for days (issue 18); an hour without them stands for its minutes, in
    the summaries as in ``load.minutes``. A rebuild keeps the days the rollups no longer cover."""
    async with running_system(db_url, mo.config(), tmp_path, clock=FakeClock(mo.AS_OF)) as k:
        await mo.seed_probes(k.db)
        async with k.db.begin() as conn:  # what pruning leaves: minutes of the last days only
            await conn.execute(
                sa.delete(probe_rollups).where(
                    probe_rollups.c.width == 60, probe_rollups.c.start < mo.at(2026, 3, 25)
                )
            )
        raw = await every_report(k)
        made = await rebuild_all(k.db, mo.AS_OF)
        assert made["days"] >= 31
        assert await every_report(k) == raw
        async with k.db.begin() as conn:  # and hour rollups are pruned after a month
            await conn.execute(sa.delete(probe_rollups).where(probe_rollups.c.start < mo.at(2026, 3, 10, 5)))
        again = await rebuild_all(k.db, mo.AS_OF)
        assert again["days"] == made["days"] - 10  # 1 to 10 March are not summed again ...
        assert await count(k, report_summarized_days) == made["days"]  # ... but kept
        assert await every_report(k) == raw


async def test_days_summed_before_running_totals_existed_are_summed_day_by_day(db_url, tmp_path):
    """Migration 0022 leaves the days summed before it without running totals: a period resting on
    one of them sums its daily rows instead, to the same answers; a rebuild gives them all totals."""
    async with running_system(db_url, mo.config(), tmp_path, clock=FakeClock(mo.AS_OF)) as k:
        await mo.seed_incidents(k.db, SPECS)
        await mo.seed_probes(k.db)
        raw = await every_report(k)
        await rebuild_all(k.db, mo.AS_OF)
        ids = [m.id for m in k.catalog.monitors.values()]
        days = [mo.at(2026, 3, d) for d in range(2, 31)]
        async with k.db.read() as conn:
            assert await running_totals(conn, ids, days) is not None  # what the reports read
        old = report_summarized_days.c.day < mo.at(2026, 3, 10)
        async with k.db.begin() as conn:
            await conn.execute(
                sa.delete(report_monitor_running).where(report_monitor_running.c.day < mo.at(2026, 3, 10))
            )
            await conn.execute(sa.update(report_summarized_days).where(old).values(running=False))
        async with k.db.read() as conn:
            assert await running_totals(conn, ids, days) is None
            assert await running_totals(conn, ids, days[10:]) is not None  # after them: the chain stands
        assert await every_report(k) == raw
        await rebuild_all(k.db, mo.AS_OF)
        async with k.db.read() as conn:
            assert await running_totals(conn, ids, days) is not None
        assert await every_report(k) == raw
