"""Time to wake: a target is killed -> the first notification reaches a local receiver, and the call.

    .venv/bin/python -m bench.wake_vs_prometheus [--rounds 3] [--confirmations 2] [--interval 1]

koban: the real ``koban serve`` (SQLite, default settings) with one HTTP monitor on a local nginx,
``interval`` seconds apart, ``confirmations`` immediate re-checks before it is down, paging a webhook
channel and phoning a person through the Twilio simulator (in this process: the time its
``Calls.json`` receives the call is timed too, with the webhook, in the same round). Peer:
Prometheus scraping blackbox_exporter's probe of the same kind of nginx every ``interval``,
evaluating ``probe_success == 0`` every ``interval`` with ``for`` = confirmations x interval (the same
number of failed observations: the first one plus ``confirmations`` more), Alertmanager with
``group_wait`` 0 s and a webhook receiver. Each round starts fresh processes, waits until the target is
seen up, sleeps a random fraction of the interval (so the kill lands anywhere in the probe cycle), then
SIGKILLs nginx and times the first notification. Rounds alternate koban / peer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import yaml

from bench.common import machine
from bench.wake_receiver import Receiver
from koban.fakes.twilio import TwilioSimulator
from koban.testing.configs import blackbox_scrape_config, go_duration
from koban.testing.peers import run_alertmanager, run_blackbox, run_nginx, run_prometheus
from koban.testing.process import Peer, start_peer

KOBAN = str(Path(sys.executable).with_name("koban"))
MONITOR = "web-home"


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
            }
        ],
    }


async def start_koban(workdir: Path, config: dict) -> tuple[Peer, Path]:
    config_path = workdir / "koban.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    db = workdir / "koban.db"

    def argv(port: int) -> list[str]:
        return [
            "env",  # exec's koban in place, so the pid (and the kill-with-parent guard) stay koban's
            f"KOBAN_DATABASE_URL=sqlite:///{db}",
            f"KOBAN_DATA_DIR={workdir}",
            "KOBAN_SECRET_KEY=bench-secret",
            "KOBAN_LOG_LEVEL=WARNING",
            KOBAN,
            "serve",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--config={config_path}",
        ]

    peer = await start_peer("koban", argv, workdir, config_path=config_path, ready_path="/healthz")
    return peer, db


async def wait_monitor_up(db: Path, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(sqlite3.Error), sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT status FROM monitor_state WHERE monitor_id = ?", (MONITOR,)).fetchone()
            if row and row[0] == "up":
                return
        await asyncio.sleep(0.1)
    raise TimeoutError("koban never saw the monitor up")


def timeline(db: Path) -> dict[str, float]:
    """First time of each timeline kind of incident 1 (probe.failed, alert.received, notification.sent)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT kind, MIN(at) FROM timeline WHERE incident_id = 1 GROUP BY kind"
        ).fetchall()
    return dict(rows)


async def first_call(sim: TwilioSimulator, after: float, within: float) -> float:
    """When the simulator's ``Calls.json`` received the first call placed after ``after``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        placed = [c.received_at for c in list(sim.calls.values()) if c.received_at >= after]
        if placed:
            return min(placed)
        await asyncio.sleep(0.005)
    raise TimeoutError("no call reached the Twilio simulator")


async def koban_round(rec: Receiver, args: argparse.Namespace, workdir: Path) -> tuple[float, float]:
    """(kill -> webhook, kill -> call) in seconds."""
    async with run_nginx(workdir) as nginx, TwilioSimulator("bench-auth-token") as sim:
        cfg = koban_config(nginx.url + "/health", rec.url + "/koban", args.interval, args.confirmations, sim)
        koban, db = await start_koban(workdir, cfg)
        try:
            await wait_monitor_up(db)
            await asyncio.sleep(random.uniform(0, args.interval))
            killed_at = time.time()
            nginx.kill()
            hit, called = await asyncio.gather(
                rec.first("/koban", lambda b: b and b.get("kind") == "page", killed_at, args.timeout),
                first_call(sim, killed_at, args.timeout),
            )
            with contextlib.suppress(sqlite3.Error):
                steps = timeline(db)
                first, opened = steps.get("probe.failed", 0.0), steps.get("alert.received", 0.0)
                print(
                    f"  koban: first failed probe +{first - killed_at:.2f}s, confirmed and incident "
                    f"opened +{opened - killed_at:.2f}s, webhook received +{hit.at - killed_at:.2f}s, "
                    f"call placed +{called - killed_at:.2f}s",
                    flush=True,
                )
            return hit.at - killed_at, called - killed_at
        finally:
            await koban.stop()


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


async def prometheus_round(rec: Receiver, args: argparse.Namespace, workdir: Path) -> float:
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
        await asyncio.sleep(random.uniform(0, args.interval))
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
        f"{go_duration(args.confirmations * args.interval)}), Alertmanager group_wait 0s",
        flush=True,
    )
    ours: list[float] = []
    calls: list[float] = []
    theirs: list[float] = []
    async with Receiver.running() as rec:
        for n in range(1, args.rounds + 1):
            if args.side in ("both", "koban"):
                with tempfile.TemporaryDirectory(prefix="koban-wake-") as tmp:
                    hook, call = await koban_round(rec, args, Path(tmp))
                ours.append(hook)
                calls.append(call)
                print(
                    f"round {n} koban                 : {hook:.2f}s kill -> webhook, "
                    f"{call:.2f}s kill -> call",
                    flush=True,
                )
            if args.side in ("both", "prometheus"):
                with tempfile.TemporaryDirectory(prefix="koban-wake-") as tmp:
                    theirs.append(await prometheus_round(rec, args, Path(tmp)))
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
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
