"""The interruptions the database counts (``reports/interruptions_load.py``) are the ones
``interruptions.counts_of`` counts page by page with ``slot``: random pages around daylight-saving
changes, whole hours and sub-microsecond fractions, to people in zones with half-hour and
45-minute offsets, a person deleted since, and pages to no one, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.reports.interruptions import counts_of, interruptions_of, slot
from koban.reports.interruptions_load import page_counts
from koban.reports.local_slots import night_label, offset_spans, slot_of, whole_second
from koban.reports.records import PageRecord, Period, PersonInfo
from tests.reports import month as mo
from tests.support.system import running_system

ZONES = ("Europe/Paris", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC", "Asia/Tokyo")
PEOPLE = {
    "alice": PersonInfo("alice", "Alice", "Europe/Paris"),
    "bob": PersonInfo("bob", "Bob", "America/New_York"),
    "carol": PersonInfo("carol", "Carol", "Asia/Kathmandu"),
    "dave": PersonInfo("dave", "Dave", "Australia/Lord_Howe"),
}


def _at(tz: str, *a: int) -> float:
    return datetime(*a, tzinfo=ZoneInfo(tz)).timestamp()


# Instants where a slot or an offset changes: DST changes (2026) and local hour boundaries.
EDGES = [
    _at("UTC", 2026, 3, 29, 1),  # Paris springs forward
    _at("UTC", 2026, 10, 25, 1),  # Paris falls back
    _at("UTC", 2026, 3, 8, 7),  # New York springs forward
    _at("UTC", 2026, 11, 1, 6),  # New York falls back
    _at("UTC", 2026, 4, 4, 15),  # Lord Howe's half hour back
    _at("Europe/Paris", 2026, 3, 30, 22),
    _at("America/New_York", 2026, 3, 9, 8),
    _at("Asia/Kathmandu", 2026, 3, 6, 18),
    _at("Asia/Kathmandu", 2026, 3, 7, 9),
]
DELTAS = [0.0, -1.0, -5e-7, -4e-7, -1e-9, 1e-7, 0.5, 3599.9999995, -3600.0]
INSTANT = st.one_of(
    st.builds(lambda e, d: e + d, st.sampled_from(EDGES), st.sampled_from(DELTAS)),
    st.floats(min_value=EDGES[0] - 90 * 86400, max_value=EDGES[3] + 10 * 86400),
    st.floats(min_value=0, max_value=3 * 86400),  # 1970: the first day is placed in Python
)
PAGE = st.tuples(
    st.sampled_from([None, "alice", "bob", "carol", "dave", "gone"]),
    st.sampled_from(["voice", "sms", "email", "slack"]),
    INSTANT,
)


@given(at=INSTANT, tz=st.sampled_from(ZONES))
@settings(max_examples=400, deadline=None)
def test_a_local_whole_second_gives_the_slot_and_night_slot_gives(at, tz):
    second = whole_second(at)
    offset = [o for start, o in offset_spans(tz, at - 86400, at + 86400) if start <= second][-1]
    where, night = slot_of(second + offset)
    assert (where, None if night is None else night_label(night)) == slot(at, tz)


async def _seed(k, pages: list[tuple[str | None, str, float]]) -> None:
    async with k.db.begin() as conn:
        await conn.execute(sa.delete(t.deliveries))
        await conn.execute(sa.delete(t.incidents))
        for n, service in ((1, "web"), (2, "api")):
            await conn.execute(
                sa.insert(t.incidents).values(
                    id=n, service_id=service, incident_key=f"k{n}", severity="critical", summary="",
                    status="triggered", created_at=mo.MONTH, updated_at=mo.MONTH,
                )
            )  # fmt: skip
        for n, (person, kind, at) in enumerate(pages):
            await conn.execute(
                sa.insert(t.deliveries).values(
                    key=f"d{n}", incident_id=1 + n % 2, kind="page", channel_id=f"ch-{kind}",
                    channel_type=kind, person_id=person, address="", step=0, loop=0, state="sent",
                    created_at=at, sent_at=at,
                )
            )  # fmt: skip


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    pages=st.lists(PAGE, max_size=25),
    since=st.sampled_from([0.0, EDGES[0] - 120 * 86400, EDGES[2] - 3600, EDGES[0] - 0.5]),
    span=st.sampled_from([86400.0, 40 * 86400.0, 400 * 86400.0]),
    services=st.sampled_from([None, ["web"]]),
)
async def test_the_database_counts_interruptions_as_the_pages_do(
    db_url, tmp_path_factory, pages, since, span, services
):
    async with running_system(
        db_url, mo.config(), tmp_path_factory.mktemp("k"), clock=FakeClock(mo.AS_OF)
    ) as k:
        await _seed(k, pages)
        p = Period(since, since + span)
        async with k.db.read() as conn:
            made = await page_counts(conn, p, services, PEOPLE)
        records = [
            PageRecord(1 + n % 2, who, f"ch-{kind}", kind, at)
            for n, (who, kind, at) in enumerate(pages)
            if services is None or n % 2 == 0
        ]
        want = counts_of(records, PEOPLE, p)

        def total(counts):
            c: Counter = Counter()
            for *key, n in counts:
                c[tuple(key)] += n
            return c

        assert total(made) == total(want)
        assert interruptions_of(made, PEOPLE) == interruptions_of(want, PEOPLE)
