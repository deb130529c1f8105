"""``/logs``: the log digests and log rules (docs/logs.md) as people read them, by the REST API's
rules (``api/logs.py``: reading needs any role; previewing or running a digest needs the manage
scope, ``web/logs_actions.py``) and through the same reads (``logs/views.py``).

- ``/logs``: each digest (schedule in its zone, window, channels, its latest run) and each rule
  (type, index, last run, lag, query time, error, how many keys fire);
- ``/logs/digests/{id}``: its runs, newest window first, paged by keyset on the window's start;
- ``/logs/digests/{id}/runs/{run}``: the run's numbers and each channel's post;
- ``/logs/rules/{id}``: the rule's last run and its state per key value.

Patterns, examples and key values are log text, so user data: the templates escape them like any
alert summary, and a Discover link is shown only when it is an http(s) address.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from koban.auth.permissions import Need, Scope, decide
from koban.logs import views
from koban.logs.digests import get_run
from koban.web import i18n
from koban.web.deps import deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.i18n import N_
from koban.web.render import Viewer, render, viewer_of

router = APIRouter(include_in_schema=False)
READ = page_needs(Scope.READ)
PAGE_SIZE = 30
MAX_KEYS = 500  # a rule split over more values shows its firing ones first, then these many
MAX_RUN_ID = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL: larger is no run, not an error
WORDS = (
    *(N_("running"), N_("posting"), N_("posted"), N_("failed")),  # a run's status (schema_logs.py)
    *(N_("yesterday"), N_("last_24h"), N_("last_7d"), N_("last_week")),  # a digest's window
)


def safe_link(url: object) -> str:
    """A Discover link from the config's ``dashboards_url``: only http(s), never ``javascript:``."""
    text = str(url or "")
    return text if text.startswith(("https://", "http://")) else ""


def local_iso(viewer: Viewer) -> Any:
    """The summary's ISO times (in the digest's zone) in the viewer's zone and language."""

    def shown(iso: object) -> str:
        try:
            return i18n.format_time(datetime.fromisoformat(str(iso)).timestamp(), viewer.lang, viewer.tz)
        except ValueError:
            return str(iso or "")

    return shown


def cursor(text: str) -> float | None:
    """A keyset cursor (a window's start, epoch seconds) from the query string."""
    if not text:
        return None
    try:
        value = float(text[:32])
    except ValueError:
        raise PageRefused(422, "before/after: not a window start (epoch seconds)") from None
    if not math.isfinite(value):
        raise PageRefused(422, "before/after: not a window start (epoch seconds)")
    return value


def may_manage(request: Request) -> bool:
    return decide(request.state.principal, Need(Scope.MANAGE)).allowed


async def digest_context(request: Request, ident: str, before: str = "", after: str = "") -> dict[str, Any]:
    """What the digest's page shows: the digest, a page of its runs and the keyset links."""
    deps = deps_of(request)
    await deps.refresh_catalog()
    digest = deps.catalog.digests.get(ident)
    if digest is None:
        raise PageRefused(404, f"digests/{ident} does not exist")
    older_than, newer_than = cursor(before), cursor(after)
    found = await views.runs(
        deps.db, ident, PAGE_SIZE + 1, before=older_than, after=newer_than if older_than is None else None
    )
    if newer_than is not None and older_than is None:  # newest first already; the extra one is on top
        more_newer, shown, more_older = len(found) > PAGE_SIZE, found[-PAGE_SIZE:], True
    else:
        more_older, shown, more_newer = len(found) > PAGE_SIZE, found[:PAGE_SIZE], older_than is not None
    base = f"/logs/digests/{ident}?"
    older = base + urlencode({"before": repr(shown[-1]["window_start"])}) if shown and more_older else ""
    newer = base + urlencode({"after": repr(shown[0]["window_start"])}) if shown and more_newer else ""
    return {
        "digest": digest,
        "runs": shown,
        "older_url": older,
        "newer_url": newer,
        "may_manage": may_manage(request),
    }


@router.get("/logs", dependencies=[READ])
async def logs_page(request: Request) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    digests = sorted(deps.catalog.digests.values(), key=lambda d: d.id)
    rules = sorted(deps.catalog.log_rules.values(), key=lambda r: r.id)
    return render(
        await viewer_of(request),
        "logs.html",
        nav="logs",
        digests=digests,
        latest=await views.latest_runs(deps.db, [d.id for d in digests]),
        rules=rules,
        rule_runs=await views.rules_overview(deps.db),
    )


async def show_digest(
    request: Request, ident: str, status: int = 200, before: str = "", after: str = "", **shown: object
) -> Response:
    """The digest's page; the buttons' answers add a preview, or the words of why nothing ran."""
    context = await digest_context(request, ident, before, after)
    viewer = await viewer_of(request)
    values = {"preview": None, "message": "", "error": "", "link": ""} | shown
    return render(viewer, "logs_digest.html", status, nav="logs", at=local_iso(viewer), **context, **values)


@router.get("/logs/digests/{ident}", dependencies=[READ])
async def digest_page(request: Request, ident: str, before: str = "", after: str = "") -> Response:
    return await show_digest(request, ident, before=before, after=after)


@router.get("/logs/digests/{ident}/runs/{run}", dependencies=[READ])
async def run_page(request: Request, ident: str, run: int) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    found = await get_run(deps.db, ident, run) if 1 <= run <= MAX_RUN_ID else None
    if found is None:
        raise PageRefused(404, f"digests/{ident} has no run {run}")
    viewer = await viewer_of(request)
    summary = found.get("summary") or {}
    return render(
        viewer,
        "logs_run.html",
        nav="logs",
        digest=deps.catalog.digests.get(ident),
        ident=ident,
        run=found,
        summary=summary,
        link=safe_link(summary.get("link")),
        at=local_iso(viewer),
        may_manage=may_manage(request),
    )


@router.get("/logs/rules/{ident}", dependencies=[READ])
async def rule_page(request: Request, ident: str) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    rule = deps.catalog.log_rules.get(ident)
    if rule is None:
        raise PageRefused(404, f"log_rules/{ident} does not exist")
    return render(
        await viewer_of(request),
        "logs_rule.html",
        nav="logs",
        rule=rule,
        rs=await views.rule_status(deps.db, ident, MAX_KEYS),
        max_keys=MAX_KEYS,
    )
