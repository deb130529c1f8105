"""``koban user create|passwd`` and ``koban token create|list|revoke``, straight to the database.

Run on the machine that holds the database (or with ``KOBAN_DATABASE_URL`` pointing at it), as
``koban config apply`` is: whoever can do that can already change everything, so these commands
need no token. They are how the first administrator is made. Each change is on the audit trail,
through the ``cli`` door, with the operating-system user as the user agent.

``token`` and ``audit`` also work against a running koban with a token (``--url``, ``koban login``:
cli/remote.py); there the server decides what the token may do.
"""

from __future__ import annotations

import asyncio
import getpass
import secrets
import sys
from typing import Any

import sqlalchemy as sa
import typer

from koban.auth import api_tokens
from koban.auth.audit import Change, Door, Origin, record
from koban.auth.passwords import hash_password, weakness
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user, list_tokens, revoke_token
from koban.cli import remote_cmds
from koban.cli.remote import URL_OPTION, connect
from koban.cli.runtime import open_system, settings_or_exit
from koban.config.durations import parse_duration
from koban.db import schema as t
from koban.db.schema_auth import users

user_app = typer.Typer(help="Logins.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)


def _origin(actor: str | None) -> Origin:
    return Origin(actor, Door.CLI, user_agent=f"koban-cli ({getpass.getuser()})")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        typer.echo("the two passwords differ", err=True)
        raise typer.Exit(2)
    return first


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(2)


@user_app.command("create")
def user_create(
    person: str = typer.Argument(..., help="A person id from the config."),
    admin: bool = typer.Option(False, "--admin", help="Give the global admin role."),
    role: str = typer.Option("", help="A global role instead: viewer, responder or manager."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    no_password: bool = typer.Option(False, "--no-password", help="Single sign-on only."),
) -> None:
    """Give a person of the config a login."""
    global_role = Role.ADMIN if admin else (Role.parse(role) if role else None)
    hashed = None
    if not no_password:
        password = _read_password(password_stdin)
        if problem := weakness(password):
            _fail(problem)
        hashed = hash_password(password)

    async def main() -> str:
        async with open_system(settings_or_exit()) as system, system.db.begin() as conn:
            if (await conn.execute(sa.select(t.people.c.id).where(t.people.c.id == person))).first() is None:
                return f"no person {person!r} in the config: add them there first"
            if (await conn.execute(sa.select(users.c.person_id).where(users.c.person_id == person))).first():
                return f"{person} already has a login (koban user passwd to change the password)"
            now = system.clock.now()
            await create_user(conn, person, now, password_hash=hashed, global_role=global_role)
            after: dict[str, Any] = {"global_role": global_role.name.lower() if global_role else None}
            await record(conn, _origin(None), [Change("user.create", "person", person, None, after)], now)
            return ""

    if problem := asyncio.run(main()):
        _fail(problem)
    typer.echo(f"{person} can sign in" + (" as an administrator" if admin else ""))


@token_app.command("create")
def token_create(
    person: str = typer.Option(
        "", help="The owner: the token never does more than they may (remotely: yourself by default)."
    ),
    name: str = typer.Option(..., help="What it is for, shown in lists."),
    scope: str = typer.Option("read", help="read, respond, manage or admin."),
    team: str = typer.Option("", help="Limit the token to one team's objects."),
    expires: str = typer.Option("", help="A duration (90d, 12h); none by default."),
    service: bool = typer.Option(False, "--service", help="A service token (for a program, not a person)."),
    url: str = URL_OPTION,
) -> None:
    """Create an API token and print it, once."""
    try:
        level, ttl = Scope.parse(scope), (parse_duration(expires) if expires else None)
    except ValueError as exc:
        _fail(str(exc))
        return
    if (remote := connect(url)) is not None:
        body = {"person": person, "name": name, "scope": scope, "team": team, "expires_in": ttl}
        remote_cmds.token_create(remote, body | {"service": service})
        return
    if not person:
        _fail("--person is required against the local database")
    issued = api_tokens.issue(secrets.token_bytes(24))

    async def main() -> str:
        async with open_system(settings_or_exit()) as system, system.db.begin() as conn:
            if (
                await conn.execute(sa.select(users.c.person_id).where(users.c.person_id == person))
            ).first() is None:
                return f"{person!r} has no login: koban user create {person}"
            now = system.clock.now()
            ident = await create_token(
                conn,
                issued,
                now,
                person_id=person,
                name=name,
                scope=level,
                kind="service" if service else "personal",
                team_id=team or None,
                expires_at=now + ttl if ttl else None,
            )
            after = {"person": person, "name": name, "scope": level.name.lower(), "team": team or None}
            await record(conn, _origin(None), [Change("token.create", "token", str(ident), None, after)], now)
            return ""

    if problem := asyncio.run(main()):
        _fail(problem)
    typer.echo(issued.text)
    typer.echo("shown once: koban keeps only its digest", err=True)


@token_app.command("list")
def token_list(
    person: str = typer.Option("", help="Only this person's tokens."), url: str = URL_OPTION
) -> None:
    """List tokens (never their secret part)."""
    if (remote := connect(url)) is not None:
        remote_cmds.token_list(remote, person)
        return

    async def main() -> list[Any]:
        async with open_system(settings_or_exit()) as system, system.db.read() as conn:
            return await list_tokens(conn, person or None)

    for tok in asyncio.run(main()):
        state = "revoked" if tok.revoked_at else "active"
        typer.echo(
            f"{tok.id:<5} {tok.shown}…  {tok.person_id:<12} {tok.scope.name.lower():<8} {state:<8} {tok.name}"
        )


@token_app.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(..., help="The id from koban token list."), url: str = URL_OPTION
) -> None:
    """Revoke a token: every instance refuses it within a second."""
    if (remote := connect(url)) is not None:
        remote_cmds.token_revoke(remote, token_id)
        return

    async def main() -> bool:
        async with open_system(settings_or_exit()) as system, system.db.begin() as conn:
            now = system.clock.now()
            done = await revoke_token(conn, token_id, now)
            if done:
                await record(conn, _origin(None), [Change("token.revoke", "token", str(token_id))], now)
            return done

    if not asyncio.run(main()):
        _fail(f"no active token {token_id}")
    typer.echo(f"token {token_id} revoked")


audit_app = typer.Typer(help="The audit trail.", no_args_is_help=False, invoke_without_command=True)


@audit_app.callback()
def audit(
    person: str = typer.Option("", help="Only this person's changes."),
    kind: str = typer.Option("", help="Only changes to this kind of object."),
    ident: str = typer.Option("", "--id", help="Only changes to this object."),
    since: str = typer.Option("", help="Only the last DURATION (24h, 7d)."),
    limit: int = typer.Option(50, min=1, max=1000),
    url: str = URL_OPTION,
) -> None:
    """Who changed what, newest first."""
    if (remote := connect(url)) is not None:
        try:
            seconds = parse_duration(since) if since else None
        except ValueError as exc:
            _fail(str(exc))
            return
        params = {"person": person, "kind": kind, "id": ident, "limit": limit}
        remote_cmds.audit(remote, params, seconds)
        return
    from datetime import UTC, datetime

    from koban.auth.audit import Filter, query

    async def main() -> list[Any]:
        async with open_system(settings_or_exit()) as system, system.db.read() as conn:
            start = system.clock.now() - parse_duration(since) if since else None
            f = Filter(person or None, kind or None, ident or None, start, None, limit)
            return await query(conn, f)

    for e in asyncio.run(main()):
        at = datetime.fromtimestamp(e.at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        target = f"{e.change.object_kind}/{e.change.object_id}" if e.change.object_kind else ""
        who = e.origin.actor or "-"
        typer.echo(f"{at}  {who:<12} {e.origin.via.value:<7} {e.change.action:<24} {target}")
