"""What a public status page says, from plain records: pure (no I/O, ``now`` passed in).

Only the page's own public words come out of here: its title, group titles and item names in the
reader's language, states, daily uptime, the public updates of incidents touching a listed item,
and maintenance times. No service or monitor id, no incident summary, label or person is copied into
the view, so a template cannot show one by mistake (``tests/web/test_status_pages.py`` checks it).

- An item's state: a monitor's announced state (up: operational, down: outage); a service's from
  its monitors (all down: outage, some: degraded); an open incident with a public update not
  "resolved" makes an operational item degraded; an active maintenance window makes it
  "maintenance". Incidents nobody wrote a public update for do not show, nor change a state.
- A day's bar: the monitor's day rollup, its results that succeeded; a service's day is as good as
  its worst monitor that day (the availability report's rule, per day instead of per minute),
  summed by the database (``monitoring.queries.daily_worst``) and handed in per item. Planned
  maintenance is not downtime: a day a window of the item's service touches is handed in already
  counted without its maintenance minutes (``web/status_uptime.py``, by the availability report's
  code), and its bar is a maintenance day: drawn as such unless what was measured outside the
  window was worse than good (downtime outside maintenance is never hidden).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from koban.config.model_status import StatusItem, StatusPage
from koban.reports.records import Interval

DAY = 86400.0
DAYS = 90
RANK = {"operational": 0, "unknown": 1, "maintenance": 2, "degraded": 3, "outage": 4}
MAINTENANCE_HIDES = ("good", "none")  # a maintenance day is drawn so unless worse was measured
MONITOR_STATE = {"up": "operational", "down": "outage"}


@dataclass(frozen=True, slots=True)
class Update:
    status: str
    message: str
    at: float


@dataclass(frozen=True, slots=True)
class Published:
    """An incident a status page may show: where it is, whether it is open, its public updates
    (newest first). Nothing else of it reaches the rules."""

    service: str
    key: str
    open: bool
    updates: Sequence[Update]


@dataclass(frozen=True, slots=True)
class Facts:
    monitor_service: Mapping[str, str]  # every monitor the catalog has -> its service
    monitor_states: Mapping[str, str]  # up | down | unknown
    # item_key -> day start -> uptime (its worst monitor's), maintenance minutes left out
    daily: Mapping[str, Mapping[float, float]]
    incidents: Sequence[Published]
    maintenance: Mapping[str, Sequence[Interval]]  # service -> windows over the bars' days and ahead


@dataclass(frozen=True, slots=True)
class Bar:
    day: float
    uptime: float | None  # outside maintenance
    grade: str  # good | minor | major | none | maintenance
    maintenance: bool = False  # a maintenance window of the item touched the day


@dataclass(frozen=True, slots=True)
class ItemView:
    name: str
    state: str
    uptime: float | None  # over the days measured
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class GroupView:
    title: str
    state: str
    items: tuple[ItemView, ...]


@dataclass(frozen=True, slots=True)
class IncidentView:
    affects: tuple[str, ...]
    status: str
    open: bool
    updates: tuple[Update, ...]


@dataclass(frozen=True, slots=True)
class MaintenanceView:
    start: float
    end: float
    active: bool
    affects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PageView:
    title: str
    state: str
    groups: tuple[GroupView, ...]
    incidents: tuple[IncidentView, ...]
    maintenance: tuple[MaintenanceView, ...]
    days: tuple[float, float]  # the first and last day the bars show


def first_day(now: float) -> float:
    return now - now % DAY - (DAYS - 1) * DAY


def grade(uptime: float | None) -> str:
    if uptime is None:
        return "none"
    return "good" if uptime >= 0.999 else "minor" if uptime >= 0.95 else "major"


def worst(states: Sequence[str]) -> str:
    """The worst state; unknown counts only when nothing is known."""
    known = [s for s in states if s != "unknown"]
    if not known:
        return "unknown"
    return max(known, key=RANK.__getitem__)


def item_key(item: StatusItem) -> str:
    return f"service:{item.service}" if item.service is not None else f"monitor:{item.monitor}"


def monitors_of(item: StatusItem, f: Facts) -> list[str]:
    if item.monitor is not None:
        return [item.monitor] if item.monitor in f.monitor_service else []
    return sorted(m for m, s in f.monitor_service.items() if s == item.service)


def service_of(item: StatusItem, f: Facts) -> str | None:
    return item.service if item.service is not None else f.monitor_service.get(item.monitor or "")


def touches(item: StatusItem, inc: Published) -> bool:
    if item.service is not None:
        return inc.service == item.service
    return inc.key == f"monitor:{item.monitor}"


def maintenance_days(intervals: Sequence[Interval], now: float) -> set[float]:
    """The bars' days (UTC, up to today) that maintenance has overlapped so far."""
    day0 = first_day(now)
    out: set[float] = set()
    for i in intervals:
        day = max(day0, i.start - i.start % DAY)
        while day < min(i.end, now):  # a window still to come marks no day yet
            out.add(day)
            day += DAY
    return out


def to_recount(daily: Mapping[float, float], days: set[float]) -> list[float]:
    """Of an item's maintenance days, those whose day figure had failures: only they change when
    maintenance is taken out (a day without a failure is 100 % either way)."""
    return sorted(d for d in days if d in daily and daily[d] < 1.0)


def bar_grade(uptime: float | None, maintenance: bool) -> str:
    shown = grade(uptime)
    return "maintenance" if maintenance and shown in MAINTENANCE_HIDES else shown


def bars(item: StatusItem, f: Facts, now: float) -> tuple[tuple[Bar, ...], float | None]:
    day0 = first_day(now)
    daily = f.daily.get(item_key(item), {})
    service = service_of(item, f)
    in_maintenance = maintenance_days(f.maintenance.get(service or "", ()), now)
    out: list[Bar] = []
    for i in range(DAYS):
        day = day0 + i * DAY
        up, maint = daily.get(day), day in in_maintenance
        out.append(Bar(day, up, bar_grade(up, maint), maint))
    measured = [b.uptime for b in out if b.uptime is not None]
    return tuple(out), (sum(measured) / len(measured) if measured else None)


def active(intervals: Sequence[Interval], now: float) -> bool:
    return any(i.start <= now < i.end for i in intervals)


def item_state(item: StatusItem, f: Facts, now: float) -> str:
    service = service_of(item, f)
    if service is not None and active(f.maintenance.get(service, ()), now):
        return "maintenance"
    states = [f.monitor_states.get(m, "unknown") for m in monitors_of(item, f)]
    down = sum(s == "down" for s in states)
    known = sum(s in MONITOR_STATE for s in states)
    state = "unknown" if known == 0 and states else "operational"
    if down:
        state = "outage" if down == known else "degraded"
    open_public = any(
        inc.open and inc.updates and inc.updates[0].status != "resolved" and touches(item, inc)
        for inc in f.incidents
    )
    if open_public and RANK[state] < RANK["degraded"]:
        state = "degraded"
    return state


def view(page: StatusPage, f: Facts, now: float, lang: str) -> PageView:
    groups: list[GroupView] = []
    items = [item for g in page.groups for item in g.items]
    for g in page.groups:
        shown: list[ItemView] = []
        for item in g.items:
            drawn, uptime = bars(item, f, now)
            shown.append(ItemView(item.name.in_language(lang), item_state(item, f, now), uptime, drawn))
        groups.append(GroupView(g.title.in_language(lang), worst([i.state for i in shown]), tuple(shown)))
    incidents = tuple(
        IncidentView(
            tuple(dict.fromkeys(i.name.in_language(lang) for i in items if touches(i, inc))),
            inc.updates[0].status,
            inc.open,
            tuple(inc.updates),
        )
        for inc in f.incidents
        if inc.updates and any(touches(i, inc) for i in items)
    )
    day0 = first_day(now)
    return PageView(
        page.title.in_language(lang),
        worst([g.state for g in groups]),
        tuple(groups),
        incidents,
        _maintenance(items, f, now, lang),
        (day0, day0 + (DAYS - 1) * DAY),
    )


def _maintenance(items: Sequence[StatusItem], f: Facts, now: float, lang: str) -> tuple[MaintenanceView, ...]:
    """Each maintenance span to come (or going on) once, with the listed items it touches."""
    spans: dict[tuple[float, float], list[str]] = {}
    for item in items:
        service = service_of(item, f)
        for i in f.maintenance.get(service or "", ()):
            if i.end > now:
                spans.setdefault((i.start, i.end), []).append(item.name.in_language(lang))
    return tuple(
        MaintenanceView(start, end, start <= now, tuple(dict.fromkeys(names)))
        for (start, end), names in sorted(spans.items())[:20]
    )
