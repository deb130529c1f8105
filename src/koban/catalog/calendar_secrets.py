"""Imported calendars' secrets at rest: a CalDAV password, and the iCal address itself.

A Google Calendar "secret address in iCal format" (Outlook's and iCloud's published links alike)
is the credential: whoever has the URL reads the calendar. So a calendar's ``url`` is sealed like a
channel's token (core/sealing.py), beside ``caldav.password``, which the sealer's name rule already
covers. A definition stored before sealing (plain values) is read as it is and sealed at its next
change; ``koban config apply`` after an upgrade re-seals every calendar whose row changed.
"""

from __future__ import annotations

from typing import Any

from koban.core.sealing import Sealer

_KEY = "secret"  # the sealer seals values under secret-looking names: carry the URL under one


def seal_calendar(definition: dict[str, Any], sealer: Sealer | None) -> dict[str, Any]:
    if sealer is None:
        return definition
    out: dict[str, Any] = sealer.seal(definition)
    if isinstance(out.get("url"), str):
        out["url"] = sealer.seal({_KEY: out["url"]})[_KEY]
    return out


def open_calendar(definition: dict[str, Any], sealer: Sealer | None) -> dict[str, Any]:
    if sealer is None:
        return definition
    out: dict[str, Any] = sealer.open(definition)
    if isinstance(out.get("url"), str):
        out["url"] = sealer.open({_KEY: out["url"]})[_KEY]
    return out
