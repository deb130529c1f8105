"""``koban probe --location NAME [--shard i/n]``: a prober as its own process, against the same database.

Only probing and storing (no API, no worker): results, rollups and alerts go through the database,
where ``koban serve`` / ``koban worker`` pick up the pages. Run one per location (two probers with the
same location name would write the same rollup rows), or, for more monitors than one core can probe,
n per location with ``--shard 1/n`` .. ``--shard n/n``: each runs a disjoint, stable hash share of the
location's monitors (``koban.probes.shard``), so their rows never overlap. Give ``koban serve``
``KOBAN_PROBE_ENABLED=false`` when its location is sharded this way.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any

import typer

from koban.cli.runtime import settings_or_exit, setup_logging


def probe(
    location: str = typer.Option(None, help="This prober's location (KOBAN_PROBE_LOCATION, default local)."),
    concurrency: int = typer.Option(None, help="Probes in flight at once (KOBAN_PROBE_CONCURRENCY)."),
    shard: str = typer.Option(
        "1/1", help="i/n: run only this process's hash share of the location's monitors (n processes)."
    ),
    migrate: bool = typer.Option(True, help="Upgrade the database schema on start."),
) -> None:
    """Run the monitors that list this location; store results; raise and resolve their alerts."""
    from koban.bootstrap.system import System
    from koban.monitoring.prober import Prober
    from koban.probes.shard import Shard

    try:
        share = Shard.parse(shard)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--shard") from None
    s = settings_or_exit(probe_location=location, probe_concurrency=concurrency)
    setup_logging(s.log_level)

    async def main() -> None:
        system = System(s)
        await system.start(worker=False, migrate=migrate)
        # Made here rather than by the system so the shard reaches it; ``system.stop()`` stops it.
        system.prober = Prober(system.deps, s.probe_location, shard=share)
        await system.prober.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        part = f", shard {share}" if share.count > 1 else ""
        typer.echo(
            f"koban prober for location {s.probe_location!r}{part} running "
            f"({len(system.prober.monitors)} monitors)"
        )
        await stop.wait()
        await system.stop()

    _run(main())


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """On uvloop when installed, as ``koban serve`` is (uvicorn picks it): asyncio's own loop costs
    about twice the CPU per new connection, and a prober opens one per probe."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return
    uvloop.run(coro)
