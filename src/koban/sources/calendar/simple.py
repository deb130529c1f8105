"""The fast path of the calendar parser (pure): plain events read straight from the text.

``icalendar`` builds an object per property and ``recurring-ical-events`` expands every event as
a possible series: ~1 ms an event, seconds for a 5,000-event feed (bench/calendar_feed.py). Most
events of a real feed are plain: one occurrence, a start in UTC, in a named IANA zone or floating,
or an all-day date. ``split`` reads those itself and hands everything else to the library (parse.py),
unchanged: a series (RRULE, RDATE, EXRULE, RECURRENCE-ID, or a UID one of those has), a DURATION, a
zone that is not an IANA name (a custom VTIMEZONE), or any line it is not sure of. What it reads
must equal what the library reads (tests/sources/calendar/test_parse_fast.py checks both ways).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from koban.sources.calendar.events import CalEvent

_UNFOLD = re.compile(r"\r?\n[ \t]")
_STAMP = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$")
_SERIES = ("RRULE", "RDATE", "EXRULE", "RECURRENCE-ID")
_UNESCAPE = re.compile(r"\\([\\;,nN])")


class _Unsure(ValueError):
    """This event is left to the library."""


def lines_of(text: str) -> list[str]:
    return [x for x in _UNFOLD.sub("", text).splitlines() if x]


def prop(line: str) -> tuple[str, dict[str, str], str]:
    """``NAME;P=V;Q="W":value`` as (NAME, {P: V, Q: W}, value)."""
    colon = line.find(":")
    if colon < 0:
        raise _Unsure(line)
    if '"' not in line[:colon]:  # the usual line: no quoted parameter to look inside
        if ";" not in line[:colon]:
            return line[:colon].upper(), {}, line[colon + 1 :]
        i = colon
    else:
        i = _quoted_colon(line)
    head, value = line[:i], line[i + 1 :]
    name, *params = head.split(";")
    out = {}
    for p in params:
        k, sep, v = p.partition("=")
        if not sep or ('"' in v and not (v.startswith('"') and v.endswith('"') and v.count('"') == 2)):
            raise _Unsure(line)  # a list of values, or a quote inside one: the library's job
        out[k.upper()] = v.strip('"')
    return name.upper(), out, value


def _quoted_colon(line: str) -> int:
    i, quoted = 0, False
    while i < len(line):
        ch = line[i]
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            break
        i += 1
    if i == len(line):
        raise _Unsure(line)
    return i


def split(lines: list[str]) -> tuple[list[list[str]], list[str]]:
    """The VEVENT blocks of the calendar (each with its BEGIN and END lines) and the other lines
    (the calendar's own properties, VTIMEZONEs, other components) in their order."""
    events: list[list[str]] = []
    rest: list[str] = []
    block: list[str] | None = None
    depth = 0
    for line in lines:
        up = line[:16].upper()
        if block is None and depth == 1 and up == "BEGIN:VEVENT":
            block = [line]
            continue
        if block is not None:
            block.append(line)
            if up.startswith("BEGIN:"):
                depth += 1
            elif up.startswith("END:"):
                if depth == 1 and up == "END:VEVENT":
                    events.append(block)
                    block = None
                else:
                    depth -= 1
            continue
        rest.append(line)
        if up.startswith("BEGIN:"):
            depth += 1
        elif up.startswith("END:"):
            depth -= 1
    if block is not None:
        rest.extend(block)  # an unfinished event: the library says what is wrong
    return events, rest


Props = list[tuple[str, dict[str, str], str]] | None  # None: a line the fast path cannot read


def props(block: list[str]) -> Props:
    """The event's own properties (not those of its VALARMs)."""
    out = []
    depth = 0
    try:
        for line in block[1:-1]:
            up = line[:6].upper()
            if up == "BEGIN:":
                depth += 1
            elif up.startswith("END:"):
                depth -= 1
            elif depth == 0:
                out.append(prop(line))
    except _Unsure:
        return None
    return out


def series_uids(events: list[Props]) -> set[str]:
    uids: set[str] = set()
    for own in events:
        if own is not None and any(n in _SERIES for n, _, _ in own):
            uids.update(v for n, _, v in own if n == "UID")
    return uids


def read(own: Props, tz: tzinfo, series: set[str], lo: float, hi: float) -> CalEvent | None | bool:
    """The event, None when it is outside [lo, hi) or has no start, False when the library must
    read it."""
    if own is None:
        return False
    try:
        got: dict[str, tuple[dict[str, str], str]] = {}
        attendees: list[str] = []
        for name, params, value in own:
            if name in _SERIES or name == "DURATION":
                return False
            if name == "ATTENDEE":
                attendees.append(value)
            elif name in got:
                return False  # a property twice: not a plain event
            else:
                got[name] = (params, value)
        uid = _text(got["UID"][1]) if "UID" in got else ""
        if uid in series:
            return False
        if "DTSTART" not in got:
            return None
        begin, all_day, raw = _when(*got["DTSTART"], tz)
        if "DTEND" in got:
            finish = _when(*got["DTEND"], tz)[0]
        else:
            finish = _instant(raw + timedelta(days=1), tz) if all_day else begin
        finish = max(finish, begin)
        if not (begin < hi and (finish > lo or (finish == begin and begin >= lo))):
            return None
        org = got.get("ORGANIZER", ({}, ""))[1]
        return CalEvent(
            uid=uid or f"no-uid:{begin}",
            recurrence_id="",
            start=begin,
            end=finish,
            summary=_text(got.get("SUMMARY", ({}, ""))[1]),
            location=_text(got.get("LOCATION", ({}, ""))[1]),
            attendees=tuple(_email(a) for a in attendees),
            organizer=_email(org) if org else "",
            all_day=all_day,
            cancelled=got.get("STATUS", ({}, ""))[1].strip().upper() == "CANCELLED",
        )
    except (_Unsure, ValueError, KeyError):
        return False


def _when(params: dict[str, str], value: str, tz: tzinfo) -> tuple[float, bool, date]:
    m = _STAMP.match(value.strip())
    if m is None or set(params) - {"TZID", "VALUE"}:
        raise _Unsure(value)
    y, mo, d, hh, mm, ss, z = m.groups()
    if hh is None:
        if params.get("VALUE", "DATE") != "DATE":
            raise _Unsure(value)
        day = date(int(y), int(mo), int(d))
        return _instant(day, tz), True, day
    if params.get("VALUE", "DATE-TIME") != "DATE-TIME":
        raise _Unsure(value)
    t = datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss))
    if z:
        zone: tzinfo = ZoneInfo("UTC")
    elif "TZID" in params:
        zone = _iana(params["TZID"])
    else:
        zone = tz  # floating: the calendar's zone
    return t.replace(tzinfo=zone).timestamp(), False, t


@lru_cache(maxsize=256)
def _iana(name: str) -> tzinfo:
    if "/" not in name and name != "UTC":
        raise _Unsure(name)  # "Eastern": a custom VTIMEZONE the library reads
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        raise _Unsure(name) from None


def _instant(v: date, tz: tzinfo) -> float:
    return datetime(v.year, v.month, v.day, tzinfo=tz).timestamp()


def _text(v: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), v)


def _email(v: str) -> str:
    return v.removeprefix("mailto:").removeprefix("MAILTO:").strip().lower()
