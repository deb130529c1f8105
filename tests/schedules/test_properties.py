"""Properties of the final schedule over every IANA zone and the years 2000-2040 (hypothesis).

Example counts stay modest so the file runs in seconds; each example spans months, so the DST
transitions of its zone fall inside it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koban.core.local_time import instant, local
from koban.schedules.model import Layer, MemberChange, Override, Rotation, Schedule, Slot, Window
from koban.schedules.resolve import final, slot_at

ZONES = sorted(available_timezones() - {"localtime"})  # every IANA name ("localtime": the host's link)
CAST = ("alice", "bob", "carol", "dave")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

days = st.dates(date(2000, 1, 1), date(2040, 12, 31))
handoff_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
members = st.lists(st.sampled_from(CAST), min_size=2, max_size=3, unique=True).map(tuple)
windows = st.builds(
    Window,
    st.frozensets(st.integers(0, 6), min_size=1),
    handoff_times,
    handoff_times,
)
rotations = st.one_of(
    st.builds(Rotation, st.sampled_from(["hourly", "daily", "weekly", "monthly"]), st.integers(1, 3)),
    st.sampled_from(["FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0", "FREQ=WEEKLY;BYDAY=MO,TH"]).map(
        lambda r: Rotation(rrule=r)
    ),
)


@st.composite
def layers(draw: st.DrawFn, start: date) -> Layer:
    return Layer(
        name=draw(st.sampled_from(["base", "day", "night"])),
        members=draw(members),
        rotation=draw(rotations),
        start=start - timedelta(days=draw(st.integers(0, 400))),
        handoff=draw(handoff_times),
        restrictions=tuple(draw(st.lists(windows, max_size=2))),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, float, float]:
    tz = draw(st.sampled_from(ZONES))
    day = draw(days)
    ls = tuple(draw(st.lists(layers(day), min_size=1, max_size=3)))
    start = datetime.combine(day, time(0, 0), UTC).timestamp() + draw(st.integers(0, 86399))
    length = draw(st.integers(3600, 120 * 86400))
    return Schedule("s", tz, ls), float(start), float(start + length)


@st.composite
def overrides(draw: st.DrawFn, start: float, end: float) -> Override:
    a = draw(st.floats(start - 86400, end, allow_nan=False))
    b = a + draw(st.floats(60, 20 * 86400, allow_nan=False))
    kind = draw(st.sampled_from(["add", "remove", "replace"]))
    replaces = draw(st.none() | st.sampled_from(CAST)) if kind == "replace" else None
    return Override(a, b, draw(st.sampled_from(CAST)), kind, replaces, id=f"o{draw(st.integers(0, 99))}")


def people_at(slots: list[Slot], t: float) -> tuple[str, ...]:
    return next(s.people for s in slots if s.start <= t < s.end)


@SETTINGS
@given(cases(), st.data())
def test_every_instant_is_covered_exactly_once_or_marked_as_a_gap(
    case: tuple[Schedule, float, float], data: st.DataObject
) -> None:
    schedule, start, end = case
    ovs = data.draw(st.lists(overrides(start, end), max_size=4))
    slots = final(schedule, ovs, start, end)
    assert slots[0].start == start and slots[-1].end == end
    for a, b in zip(slots, slots[1:], strict=False):
        assert a.end == b.start
    for s in slots:
        assert s.end > s.start
        assert s.gap == (not s.people)
        assert (s.source == "gap") == (s.gap and not s.overrides)
        assert len(set(s.people)) == len(s.people)


@SETTINGS
@given(
    st.sampled_from(ZONES),
    days,
    handoff_times,
    st.sampled_from(["daily", "weekly"]),
)
def test_handoffs_land_at_the_wall_clock_time_or_the_jump_over_it(
    tz_name: str, day: date, at: time, unit: str
) -> None:
    tz = ZoneInfo(tz_name)
    layer = Layer("main", ("alice", "bob"), Rotation(unit), day, at)  # type: ignore[arg-type]
    start = instant(datetime.combine(day, time(0, 0)), tz)
    end = start + 400 * 86400  # a year and a bit: every transition of the zone that year
    slots = final(Schedule("s", tz_name, (layer,)), [], start, end)
    changes = [b.start for a, b in zip(slots, slots[1:], strict=False) if a.people != b.people]
    step = 1 if unit == "daily" else 7
    expected = (end - start) // (step * 86400)
    assert abs(len(changes) - expected) <= 1
    for t in changes:
        w = local(t, tz)
        wanted = datetime.combine(w.date(), at)
        if w.time() == at:
            assert w.fold == 0  # a repeated time: its first occurrence
        else:  # the time does not exist that day: the jump over it
            before = local(t - 1, tz)
            assert before < wanted < w, (tz_name, w, before)
            assert tz.utcoffset(before) != tz.utcoffset(w)
        assert (w.date() - day).days % step == 0 or w.date() != wanted.date()


@SETTINGS
@given(cases(), st.data())
def test_an_override_changes_nothing_outside_its_interval(
    case: tuple[Schedule, float, float], data: st.DataObject
) -> None:
    schedule, start, end = case
    others = data.draw(st.lists(overrides(start, end), max_size=3))
    extra = replace(data.draw(overrides(start, end)), id="extra")
    without = final(schedule, others, start, end)
    with_it = final(schedule, [*others, extra], start, end)
    cuts = sorted({s.start for s in without} | {s.start for s in with_it})
    for t in cuts:
        if not extra.start <= t < extra.end:
            assert people_at(without, t) == people_at(with_it, t)
    for s in with_it:
        if extra.id in s.overrides:
            assert extra.start <= s.start and s.end <= extra.end


@SETTINGS
@given(cases(), st.data())
def test_a_member_change_leaves_every_shift_before_it_as_it_was(
    case: tuple[Schedule, float, float], data: st.DataObject
) -> None:
    schedule, start, end = case
    at = data.draw(st.floats(start, end, allow_nan=False))
    newcomers = data.draw(st.lists(st.sampled_from(CAST), min_size=1, max_size=3, unique=True).map(tuple))
    li = data.draw(st.integers(0, len(schedule.layers) - 1))
    layers = list(schedule.layers)
    layers[li] = replace(layers[li], changes=(MemberChange(at, newcomers),))
    changed = replace(schedule, layers=tuple(layers))
    before, after = final(schedule, [], start, at), final(changed, [], start, at)
    assert before == after


@SETTINGS
@given(cases(), st.data())
def test_the_slot_at_an_instant_is_the_one_a_wide_resolution_gives(
    case: tuple[Schedule, float, float], data: st.DataObject
) -> None:
    schedule, start, end = case
    ovs = data.draw(st.lists(overrides(start, end), max_size=4))
    at = data.draw(st.floats(start, end - 1, allow_nan=False))
    horizon = 40 * 86400.0
    wide = next(s for s in final(schedule, ovs, at - horizon, at + horizon) if s.start <= at < s.end)
    assert slot_at(schedule, ovs, at, horizon=horizon) == wide


def _lands_at(t: float, tz: ZoneInfo, wanted: datetime) -> bool:
    """A handoff at ``t`` meant for the wall-clock ``wanted``: at it (its first occurrence when
    repeated), or at the jump over it when the clocks skip it."""
    w = local(t, tz)
    if w == wanted:
        return w.fold == 0
    before = local(t - 1, tz)
    return before < wanted < w and tz.utcoffset(before) != tz.utcoffset(w)


@SETTINGS
@given(st.sampled_from(ZONES), days, handoff_times, st.integers(1, 3))
def test_monthly_handoffs_keep_the_day_of_the_month_and_the_wall_clock_time(
    tz_name: str, day: date, at: time, every: int
) -> None:
    tz = ZoneInfo(tz_name)
    layer = Layer("month", ("alice", "bob"), Rotation("monthly", every), day, at)
    start = instant(datetime.combine(day, at), tz)  # handoff 0: the changes are handoffs 1, 2...
    slots = final(Schedule("s", tz_name, (layer,)), [], start, start + 800 * 86400)
    changes = [b.start for a, b in zip(slots, slots[1:], strict=False) if a.people != b.people]
    assert len(changes) >= 26 // every - 1
    for k, t in enumerate(changes, start=1):
        y, m = divmod(day.month - 1 + k * every, 12)
        month = date(day.year + y, m + 1, 1)
        last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        wanted = datetime.combine(month.replace(day=min(day.day, last.day)), at)
        assert _lands_at(t, tz, wanted), (tz_name, k, local(t, tz), wanted)


@SETTINGS
@given(st.sampled_from(ZONES), days)
def test_rrule_handoffs_land_at_the_rules_wall_clock_times(tz_name: str, day: date) -> None:
    tz = ZoneInfo(tz_name)
    layer = Layer("twice", ("alice", "bob"), Rotation(rrule="FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0"), day)
    start = instant(datetime.combine(day, time(8, 0)), tz)  # handoff 0, the rule's first occurrence
    slots = final(Schedule("s", tz_name, (layer,)), [], start, start + 400 * 86400)
    changes = [b.start for a, b in zip(slots, slots[1:], strict=False) if a.people != b.people]
    assert len(changes) >= 2 * 399
    for t in changes:
        d = local(t - 1, tz).date() if local(t, tz).time() < time(8) else local(t, tz).date()
        hours = [datetime.combine(d, time(h)) for h in (8, 20)]
        assert any(_lands_at(t, tz, w) for w in hours), (tz_name, local(t, tz))
