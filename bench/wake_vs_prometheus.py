"""Time to wake: a target is killed -> the first notification reaches a local receiver, and the call.

    .venv/bin/python -m bench.wake_vs_prometheus [--rounds 3] [--confirmations 2] [--interval 1]
        [--db sqlite|postgresql] [--probe-process]

koban: the real ``koban serve`` (SQLite, default settings) with one HTTP monitor on a local nginx,
``interval`` seconds apart, ``confirmations`` immediate re-checks before it is down, paging a webhook
channel and phoning a person through the Twilio simulator (in this process: the time its
``Calls.json`` receives the call is timed too, with the webhook, in the same round). Peer:
Prometheus scraping blackbox_exporter's probe of the same kind of nginx every ``interval``,
evaluating ``probe_success == 0`` every ``interval`` with ``for`` = confirmations x interval (the same
number of failed observations: the first one plus ``confirmations`` more), Alertmanager with
``group_wait`` 0 s and a webhook receiver. Each round starts fresh processes and a fresh database, waits
until the target is seen up, then SIGKILLs nginx at a chosen point of the probe cycle and times the
first notification. The points are spread evenly over the cycle, round i at (i + 0.5) / rounds of it,
after koban's last probe or Prometheus' last scrape: the same distribution as a random kill, without
its noise (a median of 20 random waits on a 1 s cycle wanders by ±0.1 s). Rounds alternate koban / peer.

``--db postgresql`` runs koban on PostgreSQL (``--postgres-url``, a scratch database made per round);
``--probe-process`` runs the prober as its own ``koban probe`` process beside ``koban serve``, so the
failure reaches the paging worker through the database and the cross-process wake-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import aiohttp
import asyncpg
import sqlalchemy as sa
import yaml

from bench.common import machine
from bench.wake_receiver import Receiver
from koban.db.engine import Database
from koban.db.schema import deliveries, timeline
from koban.db.schema_probes import monitor_state
from koban.fakes.twilio import TwilioSimulator
from koban.probes.schedule import phase_offset
from koban.testing.configs import blackbox_scrape_config, go_duration
from koban.testing.peers import run_alertmanager, run_blackbox, run_nginx, run_prometheus
from koban.testing.ports import free_port
from koban.testing.process import Peer, spawn, start_peer

KOBAN = str(Path(sys.executable).with_name("koban"))
MONITOR = "web-home"
# A monitor already down when koban starts: the round is timed only after its incident has been
# paged, as in a koban that has been running (a fresh process pays ~30 ms of first-use costs on its
# first incident: SQL statements compiled, code paths imported).
WARM_UP = "warm-up"


PHONE = "+15550100001"


def koban_config(
    target: str, hook: str, interval: float, confirmations: int, sim: TwilioSimulator | None = None
) -> dict:
    channels: list[dict] = [{"id": "hook", "type": "webhook", "url": hook}]
    notify: list[dict] = [{"channel": "hook"}]
    people: list[dict] = []
    if sim is not None:
        channels.append(
            {
                "id": "phone",
                "type": "voice",
                "account_sid": sim.account_sid,
                "auth_token": sim.auth_token,
                "from_number": sim.number,
                "api_base_url": sim.url,
                "ring_timeout": 20,
            }
        )
        people.append({"id": "alice", "contacts": {"phone": PHONE}, "notify": ["phone"]})
        notify.append({"person": "alice"})
    return {
        "people": people,
        "channels": channels,
        "policies": [{"id": "page", "steps": [{"notify": notify, "escalate_after": "1h"}]}],
        "services": [{"id": "web", "policy": "page"}],
        "monitors": [
            {
                "id": MONITOR,
                "service": "web",
                "target": target,
                "interval": interval,
                "timeout": interval,  # like Prometheus' scrape_timeout, which cannot exceed the interval
                "confirmations": confirmations,
            },
            {  # down from the start: its incident and pages warm the process up (see warm_up)
                "id": WARM_UP,
                "service": "web",
                "target": f"http://127.0.0.1:{free_port()}/nobody",
                "interval": 1,
            },
        ],
    }


async def start_koban(workdir: Path, config: dict, db_url: str, probe_process: bool) -> list[Peer]:
    """``koban serve`` (with its prober, or beside a ``koban probe`` process); the server first."""
    config_path = workdir / "koban.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    env = [
        f"KOBAN_DATABASE_URL={db_url}",
        f"KOBAN_DATA_DIR={workdir}",
        "KOBAN_SECRET_KEY=bench-secret",
        "KOBAN_LOG_LEVEL=WARNING",
        f"KOBAN_PROBE_ENABLED={'false' if probe_process else 'true'}",
    ]

    def argv(port: int) -> list[str]:
        # `env` exec's koban in place, so the pid (and the kill-with-parent guard) stay koban's.
        return ["env", *env, KOBAN, "serve", "--host=127.0.0.1", f"--port={port}", f"--config={config_path}"]

    peers = [await start_peer("koban", argv, workdir, config_path=config_path, ready_path="/healthz")]
    if probe_process:
        peers.append(spawn("koban-probe", ["env", *env, KOBAN, "probe", "--no-migrate"], workdir))
    return peers


async def fresh_database(args: argparse.Namespace, workdir: Path) -> str:
    if args.db == "sqlite":
        return f"sqlite:///{workdir / 'koban.db'}"
    admin = await asyncpg.connect(args.postgres_url)
    try:
        await admin.execute("DROP DATABASE IF EXISTS koban_wake_bench WITH (FORCE)")
        await admin.execute("CREATE DATABASE koban_wake_bench")
    finally:
        await admin.close()
    return str(sa.make_url(args.postgres_url).set(database="koban_wake_bench"))


async def wait_monitor_up(db: Database, within: float = 60.0) -> float:
    """When the monitor was last probed up (``monitor_state.changed_at`` of the up state)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            async with db.read() as conn:
                row = (
                    await conn.execute(
                        sa.select(monitor_state.c.status).where(monitor_state.c.monitor_id == MONITOR)
                    )
                ).first()
            if row and row[0] == "up":
                return time.time()
        await asyncio.sleep(0.1)
    raise TimeoutError("koban never saw the monitor up")


async def first_times(db: Database) -> dict[str, float]:
    """First time of each timeline kind of the latest incident (probe.failed, alert.received, ...)."""
    latest = sa.select(sa.func.max(timeline.c.incident_id)).scalar_subquery()
    q = sa.select(timeline.c.kind, sa.func.min(timeline.c.at)).where(timeline.c.incident_id == latest)
    async with db.read() as conn:
        return {k: at for k, at in (await conn.execute(q.group_by(timeline.c.kind))).all()}


async def warm_up(db: Database, within: float = 60.0) -> None:
    """Until the warm-up monitor's incident has sent a page."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            async with db.read() as conn:
                if (
                    await conn.execute(sa.select(deliveries.c.id).where(deliveries.c.sent_at.is_not(None)))
                ).first():
                    return
        await asyncio.sleep(0.1)
    raise TimeoutError("the warm-up incident was never paged")


async def sleep_to_phase(last_slot: float, interval: float, fraction: float) -> None:
    """Sleep until ``fraction`` of a cycle after the next slot of the grid that ``last_slot`` is on."""
    at = last_slot + interval * (1 + fraction)
    while at < time.time() + 0.05:  # keep a margin for the sleep itself
        at += interval
    await asyncio.sleep(at - time.time())


def koban_slot(now: float, interval: float) -> float:
    """The latest slot of the monitor's probe grid at or before ``now`` (probes/schedule.py)."""
    offset = phase_offset(MONITOR, interval)
    return offset + ((now - offset) // interval) * interval


async def first_call(sim: TwilioSimulator, after: float, within: float) -> float:
    """When the simulator's ``Calls.json`` received the first call placed after ``after``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        placed = [c.received_at for c in list(sim.calls.values()) if c.received_at >= after]
        if placed:
            return min(placed)
        await asyncio.sleep(0.005)
    raise TimeoutError("no call reached the Twilio simulator")


async def koban_round(
    rec: Receiver, args: argparse.Namespace, workdir: Path, fraction: float
) -> tuple[float, float]:
    """(kill -> webhook, kill -> call) in seconds."""
    async with run_nginx(workdir) as nginx, TwilioSimulator("bench-auth-token") as sim:
        cfg = koban_config(nginx.url + "/health", rec.url + "/koban", args.interval, args.confirmations, sim)
        db_url = await fresh_database(args, workdir)
        peers = await start_koban(workdir, cfg, db_url, args.probe_process)
        db = Database(db_url)
        try:
            await warm_up(db)
            seen = await wait_monitor_up(db)
            await sleep_to_phase(koban_slot(seen, args.interval), args.interval, fraction)
            killed_at = time.time()
            nginx.kill()
            hit, called = await asyncio.gather(
                rec.first("/koban", lambda b: b and b.get("kind") == "page", killed_at, args.timeout),
                first_call(sim, killed_at, args.timeout),
            )
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                steps = await first_times(db)
                first, opened = steps.get("probe.failed", 0.0), steps.get("alert.received", 0.0)
                print(
                    f"  koban: first failed probe +{first - killed_at:.2f}s, confirmed and incident "
                    f"opened +{opened - killed_at:.2f}s, webhook received +{hit.at - killed_at:.2f}s, "
                    f"call placed +{called - killed_at:.2f}s",
                    flush=True,
                )
            return hit.at - killed_at, called - killed_at
        finally:
            await db.dispose()
            for peer in reversed(peers):
                await peer.stop()


async def prometheus_ready(prom: Peer, within: float = 60.0) -> None:
    """Target scraped as up, and an Alertmanager discovered (Prometheus finds it a few seconds in)."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            async with s.get(prom.url + "/api/v1/query", params={"query": "probe_success"}) as r:
                result = (await r.json())["data"]["result"]
            async with s.get(prom.url + "/api/v1/alertmanagers") as r:
                active = (await r.json())["data"]["activeAlertmanagers"]
            if result and result[0]["value"][1] == "1" and active:
                return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"prometheus not ready:\n{prom.log_tail()}")


async def last_scrape(prom: Peer) -> float:
    """When Prometheus last scraped the probe target (its scrapes keep a fixed cycle, like koban's)."""
    async with aiohttp.ClientSession() as s, s.get(prom.url + "/api/v1/targets") as r:
        target = (await r.json())["data"]["activeTargets"][0]
    return datetime.fromisoformat(target["lastScrape"].replace("Z", "+00:00")).timestamp()


async def prometheus_round(rec: Receiver, args: argparse.Namespace, workdir: Path, fraction: float) -> float:
    rule = {
        "alert": "ProbeFailed",
        "expr": "probe_success == 0",
        "for": go_duration(args.confirmations * args.interval),
    }
    async with (
        run_nginx(workdir) as nginx,
        run_blackbox(workdir) as blackbox,
        run_alertmanager(
            workdir, webhook_url=rec.url + "/alertmanager", group_wait=0, group_interval=1
        ) as am,
        run_prometheus(
            workdir,
            scrape_interval=args.interval,
            evaluation_interval=args.interval,
            rules=[{"name": "probes", "rules": [rule]}],
            alertmanagers=[am.url],
            scrape_configs=[
                blackbox_scrape_config(blackbox_address=blackbox.address, targets=[nginx.url + "/health"])
            ],
            resend_delay=args.interval,
        ) as prom,
    ):
        await prometheus_ready(prom)
        await sleep_to_phase(await last_scrape(prom), args.interval, fraction)
        killed_at = time.time()
        nginx.kill()
        hit = await rec.first(
            "/alertmanager", lambda b: b and b.get("status") == "firing", killed_at, args.timeout
        )
        return hit.at - killed_at


async def run(args: argparse.Namespace) -> None:
    observations = args.confirmations + 1
    print(
        f"# {machine()}; interval {args.interval:g}s, {observations} failed observations "
        f"(koban: confirmations {args.confirmations}; Prometheus: for "
        f"{go_duration(args.confirmations * args.interval)}), Alertmanager group_wait 0s; koban on "
        f"{args.db}{', prober as its own process' if args.probe_process else ''}",
        flush=True,
    )
    ours: list[float] = []
    calls: list[float] = []
    theirs: list[float] = []
    async with Receiver.running() as rec:
        for n in range(1, args.rounds + 1):
            fraction = (n - 0.5) / args.rounds  # kills spread evenly over the cycle (see above)
            if args.side in ("both", "koban"):
                with tempfile.TemporaryDirectory(prefix="koban-wake-") as tmp:
                    hook, call = await koban_round(rec, args, Path(tmp), fraction)
                ours.append(hook)
                calls.append(call)
                print(
                    f"round {n} koban                 : {hook:.2f}s kill -> webhook, "
                    f"{call:.2f}s kill -> call",
                    flush=True,
                )
            if args.side in ("both", "prometheus"):
                with tempfile.TemporaryDirectory(prefix="koban-wake-") as tmp:
                    theirs.append(await prometheus_round(rec, args, Path(tmp), fraction))
                print(f"round {n} prometheus+blackbox+AM: {theirs[-1]:.2f}s kill -> webhook", flush=True)
    if calls:
        print(
            f"RESULT koban kill -> webhook: {spread(ours)}; kill -> Calls.json: {spread(calls)}", flush=True
        )
    if not (ours and theirs):
        return
    k, p = statistics.median(ours), statistics.median(theirs)
    print(
        f"RESULT time to wake (median of {args.rounds}): koban {k:.2f}s "
        f"(min {min(ours):.2f}, max {max(ours):.2f}); Prometheus+blackbox+Alertmanager {p:.2f}s "
        f"(min {min(theirs):.2f}, max {max(theirs):.2f}); koban is {p / k:.1f}x faster",
        flush=True,
    )


def spread(xs: list[float]) -> str:
    """p50, p90 and max of a few timings."""
    ordered = sorted(xs)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"p50 {statistics.median(ordered):.2f}s, p90 {p90:.2f}s, max {ordered[-1]:.2f}s"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval", type=float, default=1.0, help="probe / scrape / evaluation seconds")
    parser.add_argument("--confirmations", type=int, default=2, help="re-checks after the first failure")
    parser.add_argument("--timeout", type=float, default=90.0, help="give up on a round after this")
    parser.add_argument("--side", choices=["both", "koban", "prometheus"], default="both")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite", help="koban's database")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("KOBAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test"),
        help="a PostgreSQL koban may create the scratch database koban_wake_bench on",
    )
    parser.add_argument(
        "--probe-process", action="store_true", help="run the prober as its own `koban probe` process"
    )
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
