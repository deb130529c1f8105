"""On-call load from the final schedule (``reports/oncall_schedules.py``, ``oncall_load.py``):
answers counted by hand from the schedule's definition, across Europe/Berlin's spring-forward
night (2026-03-29, 02:00 CET -> 03:00 CEST: that day has 23 hours)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from koban.config.model_schedules import Override, Schedule, Temporary
from koban.reports.oncall import oncall
from koban.reports.oncall_load import schedule_loads
from koban.reports.records import Period, PersonInfo
from koban.schedules.model import Override as Shift

BERLIN = ZoneInfo("Europe/Berlin")
PEOPLE = {p: PersonInfo(p, p.title()) for p in ("alice", "bob", "carol")}  # dave: deleted since


def at(*a: int) -> datetime:
    return datetime(*a, tzinfo=BERLIN)


def two_layers(**more: object) -> Schedule:
    """Days 08:00-20:00 rotate alice, bob daily from Fri 27 March (so Sat 28: bob, Sun 29: alice);
    nights 20:00-01:00 are carol's; 01:00-08:00 nobody's (a gap)."""
    return Schedule.model_validate(
        {
            "id": "primary",
            "timezone": "Europe/Berlin",
            "layers": [
                {"name": "nights", "members": ["carol"], "rotation": "daily", "start": "2026-03-01",
                 "restrictions": [{"from": "20:00", "to": "01:00"}]},
                {"name": "days", "members": ["alice", "bob"], "rotation": "daily", "start": "2026-03-27",
                 "handoff": "08:00", "restrictions": [{"from": "08:00", "to": "20:00"}]},
            ],
            **more,
        }
    )  # fmt: skip


# Sat 28 March 00:00 CET to Mon 30 March 00:00 CEST: 24 + 23 = 47 hours.
PERIOD = Period(at(2026, 3, 28).timestamp(), at(2026, 3, 30).timestamp(), "Europe/Berlin")
# dave (deleted since) replaces alice on Sunday 10:00-14:00 CEST.
SWAP = Override(id="o1", start=at(2026, 3, 29, 10), end=at(2026, 3, 29, 14), person="dave", replaces="alice")


class Extras:
    """The catalog's API additions (``schedules/build.Catalog``)."""

    def __init__(self, overrides=(), temporaries=()):
        self.schedule_overrides = {"primary": tuple(overrides)}
        self.schedule_temporaries = {"primary": tuple(temporaries)}


def test_a_two_layer_schedule_counts_hours_override_hours_and_a_gap_across_the_dst_change():
    (load,) = schedule_loads(Extras([SWAP]), {"primary": two_layers()}, PERIOD, {}).values()
    # carol: Sat 00-01 (1) + Sat 20 - Sun 01 (5) + Sun 20-24 (4); bob: Sat 08-20; alice: Sun 08-20
    # but 10-14 (dave's).
    assert load.hours == {"carol": 10.0, "alice": 8.0, "bob": 12.0, "dave": 4.0}
    assert load.override_hours == {"carol": 0.0, "alice": 0.0, "bob": 0.0, "dave": 4.0}
    # Sat 01:00-08:00 CET is 7 h; Sun 01:00 CET to 08:00 CEST is 6 h: the clocks skip 02:00-03:00.
    assert load.gaps == [
        (at(2026, 3, 28, 1).timestamp(), at(2026, 3, 28, 8).timestamp()),
        (at(2026, 3, 29, 1).timestamp(), at(2026, 3, 29, 8).timestamp()),
    ]
    assert load.gap_hours == 13.0 and 10 + 8 + 12 + 4 + 13 == 47


def test_fairness_is_over_the_combined_hours_and_a_deleted_person_keeps_their_id():
    loads = schedule_loads(Extras([SWAP]), {"primary": two_layers()}, PERIOD, {})
    r = oncall({}, PERIOD, PEOPLE, {"bob": {"pages": 2, "nights_woken": 1}}, loads)
    (sched,) = r["schedules"]
    assert (sched["hours"], sched["override_hours"]) == (34, 4)
    assert (sched["gap_hours"], sched["gaps_count"]) == (13, 2)
    night = {"start": "2026-03-29T00:00:00+00:00", "end": "2026-03-29T06:00:00+00:00", "hours": 6}
    assert sched["gaps"][1] == night
    people = {p["person"]: p for p in r["people"]}
    assert {p: x["hours"] for p, x in people.items()} == {"alice": 8, "bob": 12, "carol": 10, "dave": 4}
    assert people["dave"]["known"] is False and people["dave"]["override_hours"] == 4
    assert people["bob"]["share"] == round(12 / 34, 4) and people["bob"]["even_share"] == 0.25
    assert people["bob"]["fairness"] == round(12 / 34 - 0.25, 4)
    assert (people["bob"]["pages"], people["bob"]["nights_woken"], people["alice"]["pages"]) == (2, 1, 0)
    assert "waits_for_schedules" not in r


def test_rotations_and_schedules_add_up_per_person():
    class Rota:
        members = ["alice", "erin"]
        shift = None
        start = None

    loads = schedule_loads(Extras(), {"primary": two_layers()}, PERIOD, {})
    r = oncall({"legacy": Rota()}, PERIOD, PEOPLE, None, loads)  # type: ignore[dict-item]
    people = {p["person"]: p["hours"] for p in r["people"]}
    # the rotation without shifts: alice all 47 hours; the schedule: alice Sun 08-20.
    assert people == {"alice": 47 + 12, "bob": 12, "carol": 10, "erin": 0}
    assert r["rotations"][0]["members"][0]["hours"] == 47


def test_temporary_schedules_count_as_override_hours_and_calendar_shifts_as_ordinary_hours():
    temp = Temporary.model_validate(
        {"id": "t1", "start": at(2026, 3, 28, 8), "end": at(2026, 3, 28, 20),
         "shifts": [{"start": at(2026, 3, 28, 8), "end": at(2026, 3, 28, 18), "people": ["alice"]}]}
    )  # fmt: skip
    sunday_night = (at(2026, 3, 29, 20).timestamp(), at(2026, 3, 30).timestamp())
    cal = Shift(*sunday_night, "erin", "replace", None, "calendar:c:u1")  # as paging/on_call reads it
    calendars = {"primary": [cal]}
    (load,) = schedule_loads(Extras([], [temp]), {"primary": two_layers()}, PERIOD, calendars).values()
    # Saturday's days layer is replaced: alice 08-18, then a gap 18-20; Sunday's night is erin's.
    assert load.hours == {"carol": 6.0, "alice": 22.0, "bob": 0.0, "erin": 4.0}
    assert load.override_hours == {"carol": 0.0, "alice": 10.0, "bob": 0.0, "erin": 0.0}
    assert load.gap_hours == 15.0
