"""CalDAV import against a real Radicale server the test starts (sources/calendar/fetch.py)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import caldav
import pytest

from koban.sources.calendar.fetch import fetch_caldav
from koban.sources.calendar.parse import parse_feed
from koban.testing.ports import free_port

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//koban tests//EN
BEGIN:VEVENT
UID:weekly-backup
DTSTART;TZID=Asia/Tokyo:20260302T100000
DTEND;TZID=Asia/Tokyo:20260302T110000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Backup check
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def radicale(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", "", "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", str(tmp_path / "radicale"), "--auth-type", "none",
         "--auth-delay", "0", "--server-delay-on-error", "0", "--logging-level", "warning"],
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def test_a_caldav_calendar_is_read_by_its_display_name(radicale):
    client = caldav.DAVClient(url=radicale, username="ops", password="x")
    made = client.principal().make_calendar(name="Operations")
    made.save_event(EVENT)
    got = await fetch_caldav(radicale, "ops", "x", "Operations")
    assert got.body is not None
    lo, hi = datetime(2026, 3, 1, tzinfo=UTC).timestamp(), datetime(2026, 4, 1, tzinfo=UTC).timestamp()
    events = parse_feed(got.body, "UTC", lo, hi)
    assert [datetime.fromtimestamp(e.start, UTC).strftime("%m-%d %H:%M") for e in events] == [
        "03-02 01:00",
        "03-09 01:00",
        "03-16 01:00",
    ]
    assert {e.uid for e in events} == {"weekly-backup"}
