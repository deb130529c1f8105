"""``koban report response|wake|interruptions|on-call|availability``: the REST reports from the command
line, on the database directly (or a running koban with ``--url``: cli/remote.py);
``koban report rebuild-summaries`` makes the summary tables again (reports/summaries.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer

from koban.cli.remote import URL_OPTION, call, connect
from koban.cli.runtime import open_system, settings_or_exit
from koban.core.durations import parse_instant
from koban.reports.build import REPORTS, WAKE_ROWS, Query, build
from koban.reports.records import Period
from koban.reports.summaries import rebuild_all
from koban.reports.tables import rows, to_csv

DEFAULT_SPAN = 30 * 86400.0
REBUILD = "rebuild-summaries"


async def _rebuild() -> dict[str, int]:
    async with open_system(settings_or_exit()) as system:
        return await rebuild_all(system.db, system.clock.now())


def _when(value: str | None, now: float) -> float | None:
    if not value:
        return None
    try:
        return parse_instant(value, now, "7d")
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


PAGE = 10_000


def _every_wake_row(remote: Any, params: dict[str, str], offset: int) -> dict[str, Any]:
    """The wake report with every incident's row from ``offset`` on, asked page by page."""
    out: dict[str, Any] | None = None
    while True:
        page = call(remote, "GET", "/api/v1/reports/wake", params={**params, "limit": PAGE, "offset": offset})
        if out is None:
            out = page
        else:
            out["incidents"] += page["incidents"]
        offset += PAGE
        if len(page["incidents"]) < PAGE:
            return out


def report(
    name: str = typer.Argument(..., help=f"One of: {', '.join(REPORTS)}; or {REBUILD}."),
    since: str = typer.Option(
        None, help="Start: ISO 8601, epoch seconds or a duration ago (30d). Default: 30 days."
    ),
    until: str = typer.Option(None, help="End, excluded (same forms). Default: now."),
    tz: str = typer.Option("UTC", help="Zone days, weeks and months are cut in."),
    by: str = typer.Option(None, help="response: service, team, person, severity, day, week or month."),
    target: float = typer.Option(
        0.999, help="availability: the objective the error budget is measured against."
    ),
    csv: bool = typer.Option(False, "--csv", help="CSV instead of JSON."),
    limit: int | None = typer.Option(
        None, min=0, help=f"wake: rows for this many incidents (default {WAKE_ROWS}; every one with --csv)."
    ),
    offset: int = typer.Option(0, min=0, help="wake: the first incident's row, in creation order."),
    url: str = URL_OPTION,
) -> None:
    """Print a report (docs/reports.md) as JSON, or CSV with --csv.

    ``koban report rebuild-summaries`` makes the reports' summary tables again from the raw rows."""
    if name == REBUILD:
        typer.echo(json.dumps(asyncio.run(_rebuild())))
        return
    if (remote := connect(url)) is not None:
        params = {k: v for k, v in {"since": since, "until": until, "tz": tz, "by": by}.items() if v}
        if name == "availability":
            params["target"] = str(target)
        if name == "wake" and csv and limit is None:  # every row: page through them
            out = _every_wake_row(remote, params, offset)
        else:
            if name == "wake":
                params.update({"offset": str(offset), **({} if limit is None else {"limit": str(limit)})})
            out = call(remote, "GET", f"/api/v1/reports/{name}", params=params)
    else:

        async def main() -> dict[str, Any]:
            async with open_system(settings_or_exit()) as system:
                now = system.clock.now()
                end = _when(until, now)
                end = now if end is None else end
                start = _when(since, now)
                period = Period(end - DEFAULT_SPAN if start is None else start, end, tz)
                rows_wanted = limit if limit is not None else (None if csv else WAKE_ROWS)
                query = Query(name, period, by, target, rows_wanted, offset)
                try:
                    query.check()
                except ValueError as exc:
                    typer.echo(str(exc), err=True)
                    raise typer.Exit(2) from None
                await system.refresh_catalog(force=True)
                return await build(system.db, system.catalog, query, now, None)

        out = asyncio.run(main())
    typer.echo(to_csv(rows(name, out)) if csv else json.dumps(out, indent=2, ensure_ascii=False), nl=not csv)
