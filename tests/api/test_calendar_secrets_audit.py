"""A config apply's audit trail never holds an imported calendar's secret address or password."""

from __future__ import annotations

from koban.api.config_apply import audited
from koban.api.redact import MARKER
from koban.catalog.apply import Change
from tests.support.factories import make_config


def test_the_audit_of_a_calendar_masks_its_secret_address_and_caldav_password():
    base = make_config()
    secret = "https://calendar.google.com/calendar/ical/x/private-abc/basic.ics"
    dav = {"url": "https://dav.example.jp/", "username": "ops", "password": "hunter2"}
    new = base.model_validate(
        {
            **base.model_dump(mode="json"),
            "calendars": [{"id": "ical", "url": secret}, {"id": "dav", "caldav": dav}],
        }
    )
    [ical, davd] = audited([Change("+", "calendars", "ical"), Change("+", "calendars", "dav")], base, new)
    assert ical.after is not None and ical.after["url"] == MARKER
    assert davd.after is not None and davd.after["caldav"]["password"] == MARKER
    assert "private-abc" not in repr(ical) and "hunter2" not in repr(davd)
