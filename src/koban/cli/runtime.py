"""Helpers the subcommands share: settings with a clear failure, logging, a running system."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import typer

from koban.bootstrap.system import System
from koban.core.settings import Settings, SettingsError, load_settings


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


DEMO_DATA_DIR = Path("data/demo")  # where `koban demo` (make run) keeps its data, from the checkout


def existing_data_settings() -> Settings:
    """Settings for a command that reads or acts on data that must already exist (incidents).

    It never creates an empty database by opening the wrong one: with no database named
    (KOBAN_DATABASE_URL, KOBAN_DATA_DIR) and none in ./data, the running demo's data/demo is used;
    with none anywhere, it says where it looked and exits. Either way it says which it opened."""
    s = settings_or_exit()
    if not s.database_url and not (s.data_dir / "koban.db").exists():
        demo = DEMO_DATA_DIR / "koban.db"
        if "KOBAN_DATA_DIR" not in os.environ and demo.exists():
            s = settings_or_exit(data_dir=DEMO_DATA_DIR)
        else:
            typer.echo(
                f"no koban database at {(s.data_dir / 'koban.db').resolve()}: set KOBAN_DATA_DIR or "
                "KOBAN_DATABASE_URL to the instance's (`koban demo` keeps its data in data/demo), "
                "or talk to a running koban with --url",
                err=True,
            )
            raise typer.Exit(1)
    typer.echo(f"database: {s.effective_database_url}", err=True)
    return s


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@asynccontextmanager
async def open_system(settings: Settings) -> AsyncIterator[System]:
    system = System(settings)
    await system.start(worker=False)
    try:
        yield system
    finally:
        await system.stop()
