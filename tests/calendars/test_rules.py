"""Which events open a task and whom an on-call event names (calendars/rules.py, pure): a rule
matches by title and location (regular expressions), attendee and organizer (addresses, any case);
all the keys a rule sets must hold, and the first rule that matches wins."""

from __future__ import annotations

from dataclasses import replace

import pytest

from koban.calendars.rules import person_of, rule_for
from koban.config.model import Person
from koban.config.model_calendars import Calendar
from koban.sources.calendar.parse import CalEvent

EVENT = CalEvent(
    uid="u",
    recurrence_id="",
    start=0.0,
    end=60.0,
    summary="作業: DB backup check",
    location="Osaka DC, room 3",
    attendees=("alice@example.test", "bob@example.test"),
    organizer="boss@example.test",
)


def calendar(*matches: dict[str, str]) -> Calendar:
    rules = [{"id": f"r{i}", "match": m, "service": "web", "policy": "p"} for i, m in enumerate(matches)]
    return Calendar.model_validate({"id": "ops", "url": "https://example.test/c.ics", "tasks": rules})


@pytest.mark.parametrize(
    ("match", "opens"),
    [
        ({"title": "^作業:"}, True),
        ({"title": "^Maintenance"}, False),
        ({"location": "Osaka"}, True),
        ({"location": "^Tokyo"}, False),
        ({"attendee": "Bob@Example.TEST"}, True),
        ({"attendee": "carol@example.test"}, False),
        ({"organizer": "BOSS@example.test"}, True),
        ({"organizer": "alice@example.test"}, False),
        ({"title": "backup", "location": "Osaka", "attendee": "alice@example.test"}, True),
        ({"title": "backup", "organizer": "alice@example.test"}, False),  # every key set must hold
        ({}, True),  # no keys: every event of the calendar
    ],
)
def test_a_rule_matches_by_title_location_attendee_and_organizer(match, opens):
    assert (rule_for(calendar(match), EVENT) is not None) == opens


def test_the_first_matching_rule_wins_and_a_cancelled_event_opens_nothing():
    cal = calendar({"title": "nothing like it"}, {"location": "Osaka"}, {"title": "backup"})
    rule = rule_for(cal, EVENT)
    assert rule is not None and rule.id == "r1"
    assert rule_for(cal, replace(EVENT, cancelled=True)) is None


def test_an_on_call_event_names_a_person_by_id_name_or_only_attendee():
    people = {
        "alice": Person(id="alice", name="Alice Liddell", contacts={"email": "Alice@Example.test"}),
        "bob": Person(id="bob", name="Bob", contacts={"email": "bob@example.test"}),
    }

    def who(summary: str, attendees: tuple[str, ...] = ()) -> str | None:
        return person_of(CalEvent("u", "", 0.0, 1.0, summary=summary, attendees=attendees), people)

    assert who("BOB") == "bob" and who(" alice liddell ") == "alice"
    assert who("On call", ("alice@example.test",)) == "alice"
    assert who("On call", ("alice@example.test", "bob@example.test")) is None  # two people: nobody
    assert who("On call", ("someone@else.test",)) is None
