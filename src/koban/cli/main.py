"""``koban``: serve, worker, db, config, incident, alert, integration, demo."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import typer

from koban.cli import config_cmd, incident_cmd, probe_cmd
from koban.cli.runtime import settings_or_exit, setup_logging

app = typer.Typer(help="koban: monitoring and on-call.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_cmd.app, name="config")
app.add_typer(incident_cmd.app, name="incident")
app.add_typer(incident_cmd.alert_app, name="alert")
app.add_typer(config_cmd.integration_app, name="integration")
app.command("probe")(probe_cmd.probe)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply database migrations (serve does this on start unless --no-migrate)."""
    from koban.db.migrate import upgrade

    s = settings_or_exit()
    upgrade(s.effective_database_url, revision, s.sqlite_synchronous)
    typer.echo(f"database at {revision}")


@app.command()
def serve(
    host: str = typer.Option(None, help="Listen address (KOBAN_HOST)."),
    port: int = typer.Option(None, help="Listen port (KOBAN_PORT)."),
    config: Path = typer.Option(None, help="Apply this YAML config at start (KOBAN_CONFIG_FILE)."),
    worker: bool = typer.Option(
        True, help="Also run the worker (escalation, delivery, the ingest inbox drain) in this process."
    ),
    migrate: bool = typer.Option(True, help="Upgrade the database schema on start."),
) -> None:
    """Run the HTTP API, ingest and (by default) the worker in one process."""
    import uvicorn

    from koban.bootstrap.app import create_app
    from koban.bootstrap.system import Kernel
    from koban.ingest.http_protocol import direct_protocol

    s = settings_or_exit(host=host, port=port, config_file=config)
    setup_logging(s.log_level)
    if migrate:
        from koban.db.migrate import upgrade

        upgrade(s.effective_database_url, "head", s.sqlite_synchronous)
    if s.config_file:
        config_cmd.apply_file(s, s.config_file, quiet=False)
    k = Kernel(s)
    k.probe_location = s.probe_location if s.probe_enabled else None
    api = create_app(k, start_worker=worker, migrate=False)  # done above, or told not to
    typer.echo(f"koban serving on {s.effective_public_url} (database: {k.db.dialect})")
    # One socket write per response; alert POSTs answered without ASGI (ingest/http_protocol.py).
    protocol = direct_protocol(api.edge.ingest)  # type: ignore[union-attr]
    uvicorn.run(api, host=s.host, port=s.port, log_level="warning", lifespan="on", http=protocol)


@app.command()
def worker(
    migrate: bool = typer.Option(True, help="Upgrade the database schema on start."),
) -> None:
    """Run only the worker: escalation, delivery and the ingest inbox drain (scale out beside serve)."""
    from koban.bootstrap.system import Kernel

    s = settings_or_exit()
    setup_logging(s.log_level)

    async def main() -> None:
        k = Kernel(s)
        await k.start(worker=True, migrate=migrate)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        typer.echo(f"koban worker {k.owner} running")
        await stop.wait()
        await k.stop()

    asyncio.run(main())


@app.command()
def demo(port: int = typer.Option(8080, help="Listen port.")) -> None:
    """Start koban on SQLite with the demo config in examples/ (what `make run` does)."""
    from koban.cli.demo import run_demo

    run_demo(port)
