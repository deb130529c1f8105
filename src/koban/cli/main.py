"""``koban``: serve, worker, probe, db, config, incident, alert, integration, user, token, audit, demo,
login, logout, oncall, report."""

from __future__ import annotations

import asyncio
import signal

import typer

from koban.cli import (
    auth_cmd,
    config_cmd,
    incident_cmd,
    logs_cmd,
    oncall_cmd,
    probe_cmd,
    remote_cmds,
    report_cmd,
    serve_cmd,
)
from koban.cli.runtime import settings_or_exit, setup_logging

app = typer.Typer(help="koban: monitoring and on-call.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_cmd.app, name="config")
app.add_typer(logs_cmd.app, name="logs")
app.add_typer(incident_cmd.app, name="incident")
app.add_typer(incident_cmd.alert_app, name="alert")
app.add_typer(config_cmd.integration_app, name="integration")
app.add_typer(auth_cmd.user_app, name="user")
app.add_typer(auth_cmd.token_app, name="token")
app.add_typer(auth_cmd.audit_app, name="audit")
app.command("probe")(probe_cmd.probe)
app.command("report")(report_cmd.report)
app.command("login")(remote_cmds.login)
app.command("logout")(remote_cmds.logout)
app.command("oncall")(oncall_cmd.oncall)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply database migrations (serve does this on start unless --no-migrate)."""
    from koban.db.migrate import upgrade

    s = settings_or_exit()
    upgrade(s.effective_database_url, revision, s.sqlite_synchronous)
    typer.echo(f"database at {revision}")


app.command()(serve_cmd.serve)


@app.command()
def worker(
    migrate: bool = typer.Option(True, help="Upgrade the database schema on start."),
) -> None:
    """Run only the worker: escalation, delivery and the ingest inbox drain (scale out beside serve)."""
    from koban.bootstrap.system import System

    s = settings_or_exit()
    setup_logging(s.log_level)

    async def main() -> None:
        system = System(s)
        await system.start(worker=True, migrate=migrate)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        typer.echo(f"koban worker {system.owner} running")
        await stop.wait()
        await system.stop()

    asyncio.run(main())


@app.command()
def demo(
    port: int = typer.Option(8080, help="Listen port."),
    keep: bool = typer.Option(False, "--keep", help="Reuse the previous run's data (default: start fresh)."),
) -> None:
    """Start koban on SQLite with the demo config in examples/ (what `make run` does), on fresh data."""
    from koban.cli.demo import run_demo

    run_demo(port, keep)
