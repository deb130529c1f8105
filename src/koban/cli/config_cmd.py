"""``koban config check|apply`` and ``koban integration new-key``."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import typer

from koban.cli.runtime import kernel, settings_or_exit
from koban.config.loader import ConfigError, load_config
from koban.engine.catalog import hash_key
from koban.engine.config_apply import apply_config, plan_changes
from koban.settings import Settings

app = typer.Typer(help="Configuration as code.", no_args_is_help=True)
integration_app = typer.Typer(help="Integration keys.", no_args_is_help=True)


def _load(path: Path):  # noqa: ANN202
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
    n = sum(len(getattr(cfg, s)) for s in ("people", "rotations", "channels", "policies", "services"))
    typer.echo(f"{path}: ok ({n} objects)")


def apply_file(s: Settings, path: Path, *, dry_run: bool = False, quiet: bool = False) -> list:
    cfg = _load(path)

    async def main() -> list:
        async with kernel(s) as k, k.db.begin() as conn:
            if dry_run:
                return await plan_changes(conn, cfg)
            return await apply_config(conn, cfg, k.clock.now())

    changes = asyncio.run(main())
    if not quiet or changes:
        for c in changes:
            typer.echo(str(c))
        typer.echo(f"{len(changes)} change(s){' (dry run)' if dry_run else ''}")
    return changes


@app.command("apply")
def apply(path: Path, dry_run: bool = typer.Option(False, "--dry-run", help="Show changes only.")) -> None:
    """Make the database match the file (idempotent); shows what changes."""
    apply_file(settings_or_exit(), path, dry_run=dry_run)


@integration_app.command("new-key")
def new_key() -> None:
    """Print a fresh key and the sha256 to put in an integration's key_hashes."""
    key = secrets.token_urlsafe(24)
    typer.echo(f"key:  {key}\nhash: {hash_key(key)}")
