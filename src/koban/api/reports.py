"""REST: reports (docs/reports.md): response, time to wake, interruptions, on-call load, availability.

JSON by default; CSV with ``Accept: text/csv`` or ``?format=csv``. Any member reads them, each
seeing only the services of their teams, as the incident and monitor lists do.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from koban.api.access import READ, visible_services
from koban.api.deps import deps_of
from koban.core.durations import parse_instant
from koban.reports.build import WAKE_ROWS, build
from koban.reports.build import Query as ReportQuery
from koban.reports.records import Period
from koban.reports.tables import rows, to_csv

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
DEFAULT_SPAN = 30 * 86400.0
MAX_ROWS = 10_000_000  # far above a year's incidents; bounded so SQL's LIMIT and OFFSET never overflow
SINCE = Query(
    None, description="Start (ISO 8601, epoch seconds, or a duration ago such as 30d); 30 days before until."
)
UNTIL = Query(None, description="End, excluded (same forms); now by default.")
TZ = Query("UTC", description="The zone days, weeks and months are cut in (IANA name).")
FORMAT = Query(None, description="csv for CSV (or send Accept: text/csv).")


def when(value: str | None, now: float) -> float | None:
    """ISO 8601, epoch seconds, or a duration meaning that long before now (``7d``)."""
    if value is None or value == "":
        return None
    try:
        return parse_instant(value, now, "7d")
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


async def _answer(
    request: Request,
    name: str,
    since: str | None,
    until: str | None,
    tz: str,
    fmt: str | None,
    by: str | None = None,
    target: float = 0.999,
    limit: int | None = None,
    offset: int = 0,
) -> Any:
    deps = deps_of(request)
    await deps.refresh_catalog()
    now = deps.clock.now()
    end = when(until, now)
    end = now if end is None else end
    start = when(since, now)
    csv = fmt == "csv" or "text/csv" in request.headers.get("accept", "")
    rows_wanted = limit if limit is not None else (None if csv else WAKE_ROWS)  # CSV: every row
    period = Period(end - DEFAULT_SPAN if start is None else start, end, tz)
    query = ReportQuery(name, period, by, target, rows_wanted, offset)
    try:
        query.check()
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    report = await build(deps.db, deps.catalog, query, now, await visible_services(request))
    if csv:
        return Response(to_csv(rows(name, report)), media_type="text/csv; charset=utf-8")
    return report


@router.get(
    "/response", summary="Time to acknowledge and to resolve, grouped, with the trend", dependencies=[READ]
)
async def response_report(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    tz: str = TZ,
    by: Literal["service", "team", "person", "severity", "day", "week", "month"] | None = None,
    format: Literal["json", "csv"] | None = FORMAT,  # noqa: A002  (the query parameter's name)
) -> Any:
    return await _answer(request, "response", since, until, tz, format, by)


@router.get("/wake", summary="Time to wake: each incident's moments and their p50/p90", dependencies=[READ])
async def wake_report(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    tz: str = TZ,
    limit: int | None = Query(
        None,
        ge=0,
        le=MAX_ROWS,
        description=f"Rows for this many incidents, in creation order (default {WAKE_ROWS}; CSV: all).",
    ),
    offset: int = Query(
        0, ge=0, le=MAX_ROWS, description="Skip this many incidents' rows (the totals count them all)."
    ),
    format: Literal["json", "csv"] | None = FORMAT,  # noqa: A002
) -> Any:
    return await _answer(request, "wake", since, until, tz, format, limit=limit, offset=offset)


@router.get(
    "/interruptions",
    summary="Pages per person and channel, by hour of the recipient's day",
    dependencies=[READ],
)
async def interruptions_report(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    tz: str = TZ,
    format: Literal["json", "csv"] | None = FORMAT,  # noqa: A002
) -> Any:
    return await _answer(request, "interruptions", since, until, tz, format)


@router.get(
    "/on-call",
    summary="On-call and override hours per person from the schedules and rotations, share against an "
    "even split, schedule gaps, pages and nights woken",
    dependencies=[READ],
)
async def on_call_report(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    tz: str = TZ,
    format: Literal["json", "csv"] | None = FORMAT,  # noqa: A002
) -> Any:
    return await _answer(request, "on-call", since, until, tz, format)


@router.get(
    "/availability",
    summary="Uptime per monitor and service, maintenance excluded, error budget, downtime incidents",
    dependencies=[READ],
)
async def availability_report(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    tz: str = TZ,
    target: float = Query(0.999, gt=0, lt=1, description="The availability objective, e.g. 0.999."),
    format: Literal["json", "csv"] | None = FORMAT,  # noqa: A002
) -> Any:
    return await _answer(request, "availability", since, until, tz, format, target=target)
