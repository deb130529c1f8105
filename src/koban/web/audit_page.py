"""``/settings/audit``: the audit trail for administrators (as ``GET /api/v1/audit``), newest first,
filtered by person, kind of object and time, paged by keyset (``before`` an entry for older ones,
``after`` one for newer; ``auth/audit.py``), so the thousandth page costs what the first does.

Times in the form are the viewer's local time (their zone), read here into instants.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import Response

from koban.auth.audit import Entry, Filter, query
from koban.auth.permissions import Scope
from koban.web.deps import deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.render import render, viewer_of

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_FIELD = 128
MAX_ID = 2**63 - 1


def local_instant(text: str, tz: ZoneInfo) -> float | None:
    """``2027-01-15T09:30`` (a ``datetime-local`` field) in the viewer's zone; None if empty or not a time."""
    try:
        when = datetime.fromisoformat(text.strip()[:32])
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=tz)).timestamp()


def brief(data: Any) -> str:
    """Before/after in one line, shown as text (escaped like everything else)."""
    return "" if data is None else json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)[:400]


def pages(
    entries: list[Entry], filters: dict[str, str], more_older: bool, more_newer: bool
) -> dict[str, str]:
    """The keyset links: older than the last entry shown, newer than the first."""
    older = (
        "/settings/audit?" + urlencode({**filters, "before": entries[-1].id})
        if entries and more_older
        else ""
    )
    newer = (
        "/settings/audit?" + urlencode({**filters, "after": entries[0].id}) if entries and more_newer else ""
    )
    return {"older_url": older, "newer_url": newer}


@router.get("/settings/audit", dependencies=[page_needs(Scope.ADMIN)])
async def audit_page(
    request: Request,
    person: str = "",
    kind: str = "",
    since: str = "",
    until: str = "",
    before: int = 0,
    after: int = 0,
) -> Response:
    deps = deps_of(request)
    viewer = await viewer_of(request)
    person, kind = person.strip()[:MAX_FIELD], kind.strip()[:MAX_FIELD]
    before, after = min(max(0, before), MAX_ID), min(max(0, after), MAX_ID)
    times = {
        name: local_instant(text, viewer.tz) if text else None
        for name, text in (("since", since), ("until", until))
    }
    for name, text in (("since", since), ("until", until)):
        if text and times[name] is None:
            raise PageRefused(422, f"{name}: not a time (as 2027-01-15T09:30)")
    f = Filter(
        actor=person or None,
        object_kind=kind or None,
        since=times["since"],
        until=times["until"],
        limit=PAGE_SIZE + 1,  # one more than shown: is there another page that way?
        before_id=before or None,
        after_id=(after or None) if not before else None,
    )
    async with deps.db.read() as conn:
        found = await query(conn, f)
    going_newer = f.after_id is not None
    if going_newer:  # newest first already; the extra one is at the top
        more_newer, entries = len(found) > PAGE_SIZE, found[-PAGE_SIZE:]
        more_older = True
    else:
        more_older, entries = len(found) > PAGE_SIZE, found[:PAGE_SIZE]
        more_newer = before > 0
    filters = {"person": person, "kind": kind, "since": since[:32], "until": until[:32]}
    return render(
        viewer,
        "settings_audit.html",
        nav="settings",
        entries=entries,
        filters=filters,
        brief=brief,
        links=pages(entries, {k: v for k, v in filters.items() if v}, more_older, more_newer),
    )
