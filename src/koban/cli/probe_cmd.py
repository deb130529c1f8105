"""``koban probe --location NAME``: a prober as its own process, against the same database.

Only probing and storing (no API, no worker): results, rollups and alerts go through the database,
where ``koban serve`` / ``koban worker`` pick up the pages. Run one per location (two probers with the
same location name would write the same rollup rows).
"""

from __future__ import annotations

import asyncio
import signal

import typer

from koban.cli.runtime import settings_or_exit, setup_logging


def probe(
    location: str = typer.Option(None, help="This prober's location (KOBAN_PROBE_LOCATION, default local)."),
    concurrency: int = typer.Option(None, help="Probes in flight at once (KOBAN_PROBE_CONCURRENCY)."),
    migrate: bool = typer.Option(True, help="Upgrade the database schema on start."),
) -> None:
    """Run the monitors that list this location; store results; raise and resolve their alerts."""
    from koban.engine.kernel import Kernel

    s = settings_or_exit(probe_location=location, probe_concurrency=concurrency)
    setup_logging(s.log_level)

    async def main() -> None:
        k = Kernel(s)
        k.probe_location = s.probe_location
        await k.start(worker=False, migrate=migrate)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        typer.echo(
            f"koban prober for location {s.probe_location!r} running ({len(k.prober.monitors)} monitors)"
        )
        await stop.wait()
        await k.stop()

    asyncio.run(main())
