"""The commands that also work against a running koban (``cli/remote.py``), through the same REST
routes any client uses; each prints what its local twin prints. ``koban login`` and ``logout``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from koban.cli.remote import Remote, call, config_path, save


def login(
    url: str = typer.Option(..., "--url", help="The koban to talk to, e.g. https://koban.example.com."),
    token: str = typer.Option(
        None, "--token", help="An API token (kbt_…); asked for when not given, so it stays out of history."
    ),
) -> None:
    """Check a token against a running koban and save both for the next commands (file mode 0600)."""
    text = token or typer.prompt("token", hide_input=True)
    remote = Remote(url.rstrip("/"), text.strip())
    who = call(remote, "GET", "/api/v1/me")  # refused: says why, saves nothing
    path = config_path()
    save(path, remote.url, remote.token)
    scope = (who.get("token") or {}).get("scope") or "?"
    typer.echo(f"signed in to {remote.url} as {who.get('person')} (token scope {scope}); saved in {path}")


def logout() -> None:
    """Forget the saved login (the token itself stays valid: koban token revoke ends it)."""
    path = config_path()
    try:
        path.unlink()
    except FileNotFoundError:
        typer.echo(f"not logged in ({path} does not exist)")
        return
    typer.echo(f"logged out: removed {path}")


def apply(remote: Remote, path: Path, dry_run: bool) -> None:
    try:
        document = path.read_bytes()
    except OSError as exc:
        typer.echo(f"{path}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    answer = call(
        remote,
        "POST",
        "/api/v1/config/apply",
        params={"dry_run": "true"} if dry_run else None,
        content=document,
        headers={"Content-Type": "application/yaml"},
    )
    changes = answer.get("changes", [])
    for c in changes:
        typer.echo(c["text"])
    typer.echo(f"{len(changes)} change(s){' (dry run)' if dry_run else ''}")


def incidents(remote: Remote, status: str) -> None:
    params = {"limit": 100} | ({} if status == "all" else {"status": status})
    for r in call(remote, "GET", "/api/v1/incidents", params=params)["incidents"]:
        typer.echo(f"#{r['id']:<6} {r['status']:<13} {r['severity']:<9} {r['service']:<16} {r['summary']}")


def act(remote: Remote, incident_id: int, action: str, body: dict[str, Any]) -> None:
    """acknowledge, resolve, escalate or reassign; a refusal (409) prints the server's why."""
    answer = call(
        remote,
        "POST",
        f"/api/v1/incidents/{incident_id}/{action}",
        json={k: v for k, v in body.items() if v is not None},
    )
    typer.echo(answer["message"])


def token_create(remote: Remote, body: dict[str, Any]) -> None:
    answer = call(remote, "POST", "/api/v1/tokens", json={k: v for k, v in body.items() if v})
    typer.echo(answer["token"])
    typer.echo("shown once: koban keeps only its digest", err=True)


def token_list(remote: Remote, person: str) -> None:
    for tok in call(remote, "GET", "/api/v1/tokens")["tokens"]:
        if person and tok["person"] != person:
            continue
        state = "revoked" if tok["revoked_at"] else "active"
        typer.echo(
            f"{tok['id']:<5} {tok['shown']}…  {tok['person']:<12} {tok['scope']:<8} {state:<8} {tok['name']}"
        )


def token_revoke(remote: Remote, token_id: int) -> None:
    call(remote, "DELETE", f"/api/v1/tokens/{token_id}")
    typer.echo(f"token {token_id} revoked")


def audit(remote: Remote, params: dict[str, Any], since_seconds: float | None) -> None:
    if since_seconds is not None:  # the CLI is an entry point: it may read the wall clock
        params["since"] = datetime.fromtimestamp(time.time() - since_seconds, UTC).isoformat()
    for e in call(remote, "GET", "/api/v1/audit", params={k: v for k, v in params.items() if v})["entries"]:
        at = datetime.fromisoformat(e["at"]).strftime("%Y-%m-%d %H:%M:%S")
        obj = e.get("object") or {}
        target = f"{obj.get('kind')}/{obj.get('id')}" if obj.get("kind") else ""
        who = e.get("person") or "-"
        typer.echo(f"{at}  {who:<12} {e['via']:<7} {e['action']:<24} {target}")
