"""Fetch a calendar (I/O): an iCal URL with a conditional GET, or a CalDAV collection.

An iCal URL is asked with ``If-None-Match`` / ``If-Modified-Since`` from the last answer, so an
unchanged feed costs a 304 and no parsing. CalDAV (through the ``caldav`` library, which is
synchronous: it runs in a thread) has no such shortcut: every fetch reads the collection's events
and joins them into one iCalendar body, which the same parser reads.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from icalendar import Calendar

from koban.core import outbound
from koban.sources.calendar.parse import FeedError

FETCH_TIMEOUT = 30.0
MAX_BODY = 20 * 1024 * 1024  # a 5,000-event feed is ~2 MB


@dataclass(frozen=True, slots=True)
class Fetched:
    """``body`` None: not modified since the copy we hold (304)."""

    body: str | None
    etag: str | None = None
    last_modified: str | None = None


async def fetch_ical(url: str, etag: str | None, last_modified: str | None) -> Fetched:
    headers = {"Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        resp = await outbound.request("GET", url, headers=headers, timeout=FETCH_TIMEOUT)
    except outbound.OutboundError as e:
        raise FeedError(f"fetch failed: {e}") from None
    if resp.status == 304:
        return Fetched(None, etag, last_modified)
    if resp.status != 200:
        raise FeedError(f"the server answered HTTP {resp.status}")
    if len(resp.body) > MAX_BODY:
        raise FeedError(f"the calendar is over {MAX_BODY // 1024 // 1024} MB")
    h = {k.lower(): v for k, v in resp.headers.items()}
    return Fetched(resp.text, h.get("etag"), h.get("last-modified"))


async def fetch_caldav(url: str, username: str, password: str, calendar: str | None) -> Fetched:
    return await asyncio.to_thread(_caldav_body, url, username, password, calendar)


def _caldav_body(url: str, username: str, password: str, name: str | None) -> Fetched:
    import caldav  # imported where used: it pulls in a whole HTTP stack the rest of koban never needs
    from caldav.lib.error import DAVError

    try:
        with caldav.DAVClient(
            url=url,
            username=username or None,
            password=password or None,
            timeout=30,
        ) as client:
            if name is None:
                collection = client.calendar(url=url)
            else:
                found = [c for c in client.principal().calendars() if c.get_display_name() == name]
                if not found:
                    raise FeedError(f"no calendar named {name!r} on the CalDAV server")
                collection = found[0]
            merged = Calendar()
            merged.add("prodid", "-//koban//caldav import//EN")
            merged.add("version", "2.0")
            for obj in collection.events():
                for comp in Calendar.from_ical(obj.data).subcomponents:
                    merged.add_component(comp)
    except FeedError:
        raise
    except (DAVError, OSError, ValueError) as e:
        raise FeedError(f"CalDAV: {type(e).__name__}: {e}") from None
    return Fetched(merged.to_ical().decode())
