"""Helpers the subcommands share: settings with a clear failure, logging, a running system."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import typer

from koban.bootstrap.system import System
from koban.core.settings import Settings, SettingsError, load_settings


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


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
