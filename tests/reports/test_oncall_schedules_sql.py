"""The on-call report over HTTP, on SQLite and PostgreSQL: the schedule of the file, an override
made through the API (stored in ``schedule_overrides``) naming a person deleted since, and an
imported calendar's stored event, all as paging resolves them (answers counted by hand in
``test_oncall_schedules.py``'s schedule)."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.db.schema_calendars import calendar_events
from koban.db.schema_schedules import schedule_overrides
from tests.reports.test_oncall_schedules import PERIOD, SWAP, at, two_layers
from tests.support.system import client, running_system

PEOPLE = ("alice", "bob", "carol", "erin")  # dave, whom the swap names, is deleted since
RANGE = {"since": "2026-03-28T00:00:00+01:00", "until": "2026-03-30T00:00:00+02:00", "tz": "Europe/Berlin"}


def config() -> ConfigFile:
    schedule = two_layers().model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return ConfigFile.model_validate(
        {
            "teams": [{"id": "ops", "members": [{"person": "alice"}]}],
            "people": [{"id": p, "name": p.title(), "notify": ["log"]} for p in PEOPLE],
            "channels": [{"id": "log", "type": "console"}],
            "schedules": [{**schedule, "team": "ops"}],
            "calendars": [{"id": "rota", "url": "http://127.0.0.1:9/rota.ics", "schedule": "primary"}],
        }
    )  # fmt: skip


async def test_the_report_resolves_the_stored_schedule_as_paging_does(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path, clock=FakeClock(PERIOD.until + 86400)) as k:
        async with k.db.begin() as conn:
            swap = SWAP.model_copy(update={"id": "swap-1"})
            await conn.execute(
                sa.insert(schedule_overrides).values(
                    schedule_id="primary",
                    id="swap-1",
                    definition=swap.model_dump(mode="json"),
                    created_at=0.0,
                )
            )
            await conn.execute(
                sa.insert(calendar_events).values(
                    calendar_id="rota", uid="u1", recurrence_id="", summary="erin",
                    start=at(2026, 3, 29, 20).timestamp(), end=at(2026, 3, 30).timestamp(), person="erin",
                )
            )  # fmt: skip
        await k.refresh_catalog(force=True)
        async with client(k) as http:
            r = (await http.get("/api/v1/reports/on-call", params=RANGE)).json()
            table = (await http.get("/api/v1/reports/on-call", params={**RANGE, "format": "csv"})).text
    (sched,) = r["schedules"]
    assert sched["schedule"] == "primary" and "waits_for_schedules" not in r
    # Sunday 20:00-24:00 is erin's (the calendar) instead of carol's: carol 10 - 4 = 6 hours.
    want = {"alice": (8, 0), "bob": (12, 0), "carol": (6, 0), "dave": (4, 4), "erin": (4, 0)}
    assert {m["person"]: (m["hours"], m["override_hours"]) for m in sched["members"]} == want
    assert (sched["hours"], sched["gap_hours"], sched["gaps_count"]) == (34, 13, 2)
    people = {p["person"]: p for p in r["people"]}
    assert people["dave"]["known"] is False and people["erin"]["name"] == "Erin"
    assert people["bob"]["share"] == round(12 / 34, 4) and people["bob"]["even_share"] == 0.2
    rows = list(csv.DictReader(io.StringIO(table)))
    total = next(x for x in rows if x["kind"] == "schedule" and x["person"] == "(total)")
    assert (total["id"], float(total["gap_hours"]), total["gaps_count"]) == ("primary", 13.0, "2")
    dave = [x for x in rows if x["person"] == "dave"]
    assert [(x["kind"], float(x["override_hours"])) for x in dave] == [("person", 4.0), ("schedule", 4.0)]
