"""``koban config check|apply`` and ``koban integration new-key|keys|revoke-key``."""

from __future__ import annotations

import asyncio
import getpass
import secrets
from pathlib import Path

import typer

from koban.api.config_apply import audited
from koban.auth.audit import Door, Origin, record
from koban.catalog.apply import apply_config, managed_objects, plan_changes
from koban.catalog.snapshot import hash_key
from koban.cli import remote_cmds
from koban.cli.remote import URL_OPTION, connect
from koban.cli.runtime import open_system, settings_or_exit
from koban.config.loader import ConfigError, load_config
from koban.config.model import ConfigFile
from koban.core.settings import Settings

app = typer.Typer(help="Configuration as code.", no_args_is_help=True)
integration_app = typer.Typer(help="Integration keys.", no_args_is_help=True)


def _load(path: Path) -> ConfigFile:
    try:
        return load_config(path)
    except ConfigError as exc:
        for p in exc.problems:
            typer.echo(f"{path}:{p.line or '?'}: {p.path + ': ' if p.path else ''}{p.message}", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"{path}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None


@app.command("check")
def check(path: Path) -> None:
    """Validate a config file; every problem is reported with its line number."""
    cfg = _load(path)
    n = len(managed_objects(cfg))
    typer.echo(f"{path}: ok ({n} objects)")


def apply_file(s: Settings, path: Path, *, dry_run: bool = False, quiet: bool = False) -> list:
    cfg = _load(path)

    async def main() -> list:
        async with open_system(s) as system:
            sealer = system.settings.sealer()
            if dry_run:
                async with system.db.read() as conn:
                    return await plan_changes(conn, cfg, sealer=sealer)
            old = system.api.catalog.as_config()
            async with system.db.begin() as conn:
                now = system.clock.now()
                changes = await apply_config(conn, cfg, now, sealer=sealer)
                # Through the config door: whoever runs this holds the database, as `koban user create`.
                origin = Origin(None, Door.CONFIG, user_agent=f"koban-cli ({getpass.getuser()})")
                await record(conn, origin, audited(changes, old, cfg), now)
            return changes

    changes = asyncio.run(main())
    if not quiet or changes:
        for c in changes:
            typer.echo(str(c))
        typer.echo(f"{len(changes)} change(s){' (dry run)' if dry_run else ''}")
    return changes


@app.command("apply")
def apply(
    path: Path,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show changes only."),
    url: str = URL_OPTION,
) -> None:
    """Make the database match the file (idempotent); shows what changes. Remotely: needs an admin token."""
    if (remote := connect(url)) is not None:
        remote_cmds.apply(remote, path, dry_run)
        return
    apply_file(settings_or_exit(), path, dry_run=dry_run)


@integration_app.command("new-key")
def new_key() -> None:
    """Print a fresh key and the sha256 to put in an integration's key_hashes."""
    key = secrets.token_urlsafe(24)
    typer.echo(f"key:  {key}\nhash: {hash_key(key)}")


@integration_app.command("keys")
def list_keys(integration: str) -> None:
    """List an integration's API-created keys: id, first characters, created, expiry."""
    import sqlalchemy as sa

    from koban.db import schema as t

    async def main() -> list:
        async with open_system(settings_or_exit()) as system, system.db.read() as conn:
            ik = t.integration_keys
            q = sa.select(ik).where(ik.c.integration_id == integration).order_by(ik.c.id)
            return list(await conn.execute(q))

    for r in asyncio.run(main()):
        typer.echo(f"{r.id}\t{r.prefix}…\tcreated {r.created_at:.0f}\texpires {r.expires_at or 'never'}")


@integration_app.command("revoke-key")
def revoke_key(
    integration: str,
    key_id: int,
    after: float = typer.Option(0, help="Seconds the key keeps working (rotation grace); 0 = now."),
) -> None:
    """Revoke a key now, or let it expire after a grace period while senders move to the new one."""
    import sqlalchemy as sa

    from koban.db import schema as t

    async def main() -> int:
        async with open_system(settings_or_exit()) as system, system.db.begin() as conn:
            ik = t.integration_keys
            where = sa.and_(ik.c.id == key_id, ik.c.integration_id == integration)
            if after:
                done = await conn.execute(
                    sa.update(ik).where(where).values(expires_at=system.clock.now() + after)
                )
            else:
                done = await conn.execute(sa.delete(ik).where(where))
            return done.rowcount

    if not asyncio.run(main()):
        typer.echo(f"integration {integration!r} has no key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"key {key_id} of {integration}: " + (f"expires in {after:g}s" if after else "revoked"))
