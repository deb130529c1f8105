"""``koban serve``: the HTTP API, ingest and (by default) the worker in one process."""

from __future__ import annotations

from pathlib import Path

import typer

from koban.cli import config_cmd
from koban.cli.runtime import settings_or_exit, setup_logging


def serve(
    host: str | None = typer.Option(None, help="Listen address (KOBAN_HOST)."),
    port: int | None = typer.Option(None, help="Listen port (KOBAN_PORT)."),
    config: Path | None = typer.Option(None, help="Apply this YAML config at start (KOBAN_CONFIG_FILE)."),
    worker: bool = typer.Option(
        True, help="Also run the worker (escalation, delivery, the ingest inbox drain) in this process."
    ),
    migrate: bool = typer.Option(True, help="Upgrade the database schema on start."),
) -> None:
    """Run the HTTP API, ingest and (by default) the worker in one process."""
    import uvicorn

    from koban.bootstrap.app import create_app
    from koban.bootstrap.system import System
    from koban.ingest.header_limits import limited_protocol

    s = settings_or_exit(host=host, port=port, config_file=config)
    setup_logging(s.log_level)
    if migrate:
        from koban.db.migrate import upgrade

        upgrade(s.effective_database_url, "head", s.sqlite_synchronous)
    if s.config_file:
        config_cmd.apply_file(s, s.config_file, quiet=False)
    system = System(s)
    system.probe_location = s.probe_location if s.probe_enabled else None
    api = create_app(system, start_worker=worker, migrate=False)  # done above, or told not to
    typer.echo(f"koban serving on {s.effective_public_url} (database: {system.db.dialect})")
    # One socket write per response; alert POSTs answered without ASGI (ingest/http_protocol.py).
    if api.edge is None:  # create_app always sets it
        raise RuntimeError("the app was built without its ingest edge")
    protocol = limited_protocol(api.edge.ingest)
    uvicorn.run(api, host=s.host, port=s.port, log_level="warning", lifespan="on", http=protocol)
