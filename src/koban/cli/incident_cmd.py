"""``koban incident list|ack|resolve|escalate|reassign`` (the database, or a running koban with
``--url``: cli/remote.py), ``koban alert send``."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
import typer

from koban.channels.actions import IncidentAction
from koban.cli import remote_cmds
from koban.cli.remote import URL_OPTION, connect
from koban.cli.runtime import existing_data_settings, open_system, settings_or_exit
from koban.db import schema as t
from koban.domain.escalation import Status

app = typer.Typer(help="Incidents.", no_args_is_help=True)
alert_app = typer.Typer(help="Alerts.", no_args_is_help=True)


@app.command("list")
def list_(
    status: str = typer.Option("open", help="open, triggered, acknowledged, resolved or all"),
    url: str = URL_OPTION,
) -> None:
    """List incidents, newest first."""
    if (remote := connect(url)) is not None:
        remote_cmds.incidents(remote, status)
        return

    async def main() -> Sequence[sa.Row[Any, Any, Any, Any, Any]]:  # id, status, severity, service, summary
        async with open_system(existing_data_settings()) as system, system.db.read() as conn:
            c = t.incidents.c
            q = (
                sa.select(c.id, c.status, c.severity, c.service_id, c.summary)
                .order_by(c.id.desc())
                .limit(100)
            )
            if status == "open":
                q = q.where(c.status != Status.RESOLVED)
            elif status != "all":
                q = q.where(c.status == status)
            return (await conn.execute(q)).all()

    for r in asyncio.run(main()):
        typer.echo(f"#{r.id:<6} {r.status:<13} {r.severity:<9} {r.service_id:<16} {r.summary}")


def _act(incident_id: int, action: IncidentAction, actor: str | None, url: str | None) -> None:
    if (remote := connect(url)) is not None:
        remote_cmds.act(remote, incident_id, action.value, {"actor": actor})
        return
    _report(lambda system: system.actions.act(incident_id, action, actor=actor, via="cli"))


def _report(call: Callable[[Any], Awaitable[Any]]) -> None:
    """Run one lifecycle call against the database and print its answer; exit 1 if refused."""
    from koban.paging.actions import NotFound

    settings = existing_data_settings()

    async def main():  # noqa: ANN202
        async with open_system(settings) as system:
            return await call(system)

    try:
        res = asyncio.run(main())
    except NotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(res.message)
    if not res.ok:
        raise typer.Exit(1)


@app.command("ack")
def ack(
    incident_id: int, actor: str = typer.Option(None, help="Person id acknowledging."), url: str = URL_OPTION
) -> None:
    """Acknowledge an incident: escalation stops."""
    _act(incident_id, IncidentAction.ACKNOWLEDGE, actor, url)


@app.command("resolve")
def resolve(
    incident_id: int, actor: str = typer.Option(None, help="Person id resolving."), url: str = URL_OPTION
) -> None:
    """Resolve an incident."""
    _act(incident_id, IncidentAction.RESOLVE, actor, url)


@app.command("escalate")
def escalate(incident_id: int, actor: str = typer.Option(None), url: str = URL_OPTION) -> None:
    """Move an incident to its next escalation step now."""
    _act(incident_id, IncidentAction.ESCALATE, actor, url)


@app.command("reassign")
def reassign(
    incident_id: int,
    person: str = typer.Argument(..., help="Person id to hand the incident to."),
    actor: str = typer.Option(None, help="Person id reassigning."),
    url: str = URL_OPTION,
) -> None:
    """Hand an incident to a person: they are paged now."""
    if (remote := connect(url)) is not None:
        remote_cmds.act(remote, incident_id, "reassign", {"person": person, "actor": actor})
        return
    _report(lambda system: system.actions.reassign(incident_id, person, actor=actor, via="cli"))


@alert_app.command("send")
def send(
    key: str = typer.Option(..., envvar="KOBAN_INTEGRATION_KEY", help="Integration key."),
    summary: str = typer.Option("Test alert from koban alert send"),
    severity: str = typer.Option("critical"),
    dedup_key: str = typer.Option("koban-test-alert"),
    resolve: bool = typer.Option(False, help="Send a resolve for the dedup key instead."),
    url: str = typer.Option(None, help="koban base URL (default: KOBAN_PUBLIC_URL or host:port)."),
) -> None:
    """Send a test alert to a running koban over HTTP."""
    base = (url or settings_or_exit().effective_public_url).rstrip("/")
    body = {
        "summary": summary,
        "severity": severity,
        "dedup_key": dedup_key,
        "action": "resolve" if resolve else "trigger",
        "source": "koban-cli",
    }
    req = urllib.request.Request(
        f"{base}/api/v1/ingest",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            typer.echo(resp.read().decode())
    except urllib.error.HTTPError as exc:
        typer.echo(f"{exc.code}: {exc.read().decode()}", err=True)
        raise typer.Exit(1) from None
