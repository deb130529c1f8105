"""The soak (issue 18, part 4): everything at half its measured capacity at once, for ``--minutes``.

    python -m bench.soak                                   # 30 minutes, SQLite, one koban serve
    python -m bench.soak --database-url postgresql://postgres@127.0.0.1/postgres --instances 2
    python -m bench.soak --minutes 2 --monitors 2000 --rate-1 200 --rate-100 5000   # a short check

Not run by ``make test`` (tests/bench/test_soak_smoke.py runs it for seconds at tiny sizes).
At the same time, on one database (a SQLite file, or a scratch database created on the
``--database-url`` server and dropped afterwards):

- ingest at 1 alert per request (``--rate-1`` alerts/s) and at 100 (``--rate-100``), each stream in
  ``bench.soak_load`` processes of its own (one per 4,000 requests/s), 5,000 distinct alerts re-sent
  in turn;
- ``--monitors`` monitors every ``--interval`` s, each probing its own URL on one local nginx, run by
  ``--probers`` ``koban probe --shard`` processes (0: by ``koban serve`` itself);
- escalations: a new fingerprint every ``1 / --pages`` s pages a webhook (the bench's receiver), then
  after ``--escalate-after`` s escalates to the webhook and a phone call through the Twilio
  simulator (whose callee answers and presses 1: the keypad acknowledges), and is resolved after
  ``--resolve-after`` s;
- API reads, one at a time, ``--api-rate`` per second: incident lists, monitor pages and graphs,
  who is on call.

``--instances 2`` runs two ``koban serve`` on PostgreSQL sharing the work: every client takes them in
turn. Each minute (``--report-every``) and at the end it prints each koban process's RSS and its
growth since ``--baseline-minutes`` (target < 5 %), alert-to-page of the new fingerprints (their
2xx -> their first webhook; target p99 < 250 ms), errors (target 0: any answer but a 2xx or the
backlog's expected 429, any exception, an ERROR line in a koban log, a page or an accepted alert
lost), and the database's size against its prediction (bench/soak_report.py). Every process it
starts is stopped by its PID; everything listens on 127.0.0.1. Defaults and where they come from:
docs/benchmarks.md, "Soak".
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

from bench.common import machine
from bench.load import percentile
from bench.oncall_http import add_token
from bench.probe_seed import fresh_postgres
from bench.soak_clients import Pager, Reader
from bench.soak_report import (
    PROBE_TABLES,
    Store,
    counts,
    gen_line,
    loadavg,
    log_errors,
    ms,
    predict,
    rss_line,
    rss_mib,
)
from bench.soak_setup import config, seed, start_generators, start_instances, start_probers
from bench.wake_receiver import Receiver
from koban.fakes.twilio import TwilioSimulator
from koban.testing.peers import run_nginx
from koban.testing.process import Peer

FLOODS = ("flood1", "flood100")
MiB = 2**20


@contextmanager
def database(server: str | None, workdir: Path) -> Iterator[str]:
    if not server:
        yield f"sqlite:///{workdir / 'koban.db'}"
        return
    with fresh_postgres(server) as url:
        yield url


class Soak:
    def __init__(self, args: argparse.Namespace, store: Store) -> None:
        self.args, self.store = args, store
        self.koban: list[Peer] = []
        self.gens: dict[str, list[tuple[Peer, Path]]] = {}
        self.pager: Pager | None = None
        self.reader: Reader | None = None
        self.base: dict[int, float] = {}
        self.growth: list[float] = []  # each report's worst RSS growth after the baseline
        self.waits: list[float] = []  # every alert-to-page, seconds
        self.last: dict[str, dict] = {}
        self.probing_since = 0.0

    def pages(self, rec: Receiver) -> list[float]:
        """The alert-to-page waits of the pages that arrived since the last call."""
        assert self.pager is not None
        waits = [w for _, w in self.pager.read_pages(rec)]
        self.waits += waits
        return waits

    def report(self, rec: Receiver, started: float, final: bool = False) -> None:
        a, pager, reader = self.args, self.pager, self.reader
        assert pager is not None and reader is not None
        elapsed = time.monotonic() - started
        names = [p.name for p in self.koban]
        pids = [p.process.pid for p in self.koban]
        if not self.base and elapsed >= min(a.baseline_minutes * 60, a.minutes * 30):
            self.base = {pid: rss for pid, rss in zip(pids, map(rss_mib, pids), strict=True)}
        text, worst = rss_line(names, pids, self.base)
        if self.base:
            self.growth.append(worst)
        waits = self.pages(rec)
        api, reader.latencies = reader.latencies, []
        overdue = len(pager.overdue(time.time(), a.page_timeout))
        head = "END" if final else f"minute {elapsed / 60:4.1f}"
        print(f"{head}: RSS {text}{'' if self.base else ' (baseline not taken yet)'}")
        for stream, wanted in (("flood1", a.rate_1), ("flood100", a.rate_100)):
            if stream not in self.gens:
                continue
            c = counts([out for _, out in self.gens[stream]])
            last = self.last.get(stream, {})
            window = (c.get("at", 0) - last.get("at", started_wall(started))) or 1
            delta = {k: c.get(k, 0) - last.get(k, 0) for k in ("ok", "alerts", "limited", "missed", "errors")}
            delta["p99_ms"] = c.get("p99_ms", 0.0)
            print(f"  {gen_line(f'ingest {stream}', delta if c else {}, wanted, window)}")
            self.last[stream] = c or self.last.get(stream, {})
        print(
            f"  pages: {len(waits)} new alerts paged, to page p50 {_ms(waits, 50)} p99 {_ms(waits, 99)}; "
            f"{overdue} not paged after {a.page_timeout:g} s; "
            f"429s retried {pager.limited}; errors {pager.errors.count}"
        )
        print(f"  API: {len(api)} reads p50 {ms(api, 50)} p95 {ms(api, 95)}; errors {reader.errors.count}")
        logs = log_errors([*self.koban])
        print(
            f"  database {self.store.size() / MiB:,.1f} MiB, inbox {self.store.queued():,} alerts queued; "
            f"ERROR lines in logs {sum(map(len, logs.values()))}; load average {loadavg()}",
            flush=True,
        )


def generators(s: Soak) -> list[tuple[Peer, Path]]:
    return [g for stream in s.gens.values() for g in stream]


def _ms(seconds: list[float], pct: float) -> str:
    return f"{percentile(sorted(seconds), pct) * 1000:,.0f} ms" if seconds else "-"


def started_wall(started_monotonic: float) -> float:
    return time.time() - (time.monotonic() - started_monotonic)


async def run(args: argparse.Namespace) -> None:
    if args.instances > 1 and not args.database_url:
        raise SystemExit("--instances > 1 needs PostgreSQL (--database-url)")
    with (
        tempfile.TemporaryDirectory(prefix="koban-soak-") as tmp,
        database(args.database_url, Path(tmp)) as url,
    ):
        workdir = Path(tmp)
        async with AsyncExitStack() as stack:
            nginx = await stack.enter_async_context(run_nginx(workdir))
            rec = await stack.enter_async_context(Receiver.running())
            sim = await stack.enter_async_context(
                TwilioSimulator(
                    "soak-auth-token", personas={"default": "ack"}, speed=10, calls_per_second=args.cps
                )
            )
            await soak(args, workdir, url, nginx.url, rec, sim)


async def soak(
    args: argparse.Namespace, workdir: Path, url: str, nginx: str, rec: Receiver, sim: TwilioSimulator
) -> None:
    t = time.monotonic()
    cfg = config(rec.url + "/koban", sim, args.cps, args.escalate_after)
    await seed(workdir, url, cfg, args.monitors, nginx + "/tiny?m={i}", args.interval)
    token = await add_token(url)
    store = Store(url)
    s = Soak(args, store)
    probers: list[Peer] = []
    try:
        s.koban = await start_instances(workdir, url, args.instances, probe=not args.probers)
        probers = await start_probers(workdir, url, args.probers) if args.probers else []
        s.koban += probers
        s.probing_since = time.monotonic()  # the probers run their monitors from here
        size0 = store.size()
        urls = [p.url for p in s.koban[: args.instances]]
        print(
            f"set-up: {args.monitors:,} monitors, {args.instances} koban serve + "
            f"{args.probers} koban probe on "
            f"{'PostgreSQL' if args.database_url else 'SQLite'}, ready in {time.monotonic() - t:.0f} s; "
            f"database {size0 / MiB:,.1f} MiB; {machine()}",
            flush=True,
        )
        seconds = args.minutes * 60
        for stream, per, rate in (("flood1", 1, args.rate_1), ("flood100", 100, args.rate_100)):
            if rate > 0:
                s.gens[stream] = start_generators(
                    workdir, stream, urls, per, rate / per, seconds, args.connections
                )
        started = time.monotonic()
        until = started + seconds
        s.pager = Pager(urls, args.pages, args.resolve_after)
        s.reader = Reader(urls, token, args.api_rate, args.monitors)
        clients = [asyncio.create_task(s.pager.run(until)), asyncio.create_task(s.reader.run(until))]
        while time.monotonic() < until:
            await asyncio.sleep(min(args.report_every, until - time.monotonic()))
            s.report(rec, started)
        await asyncio.gather(*clients)
        await finish(s, rec, sim, started, size0, probers)
    finally:
        for peer, _ in generators(s):
            await peer.stop()
        for peer in probers:
            await peer.stop(grace=60)  # each stores what it buffered
        for peer in s.koban:
            await peer.stop(grace=30)


def escalations(rec: Receiver, sim: TwilioSimulator, store: Store) -> str:
    """That the escalations ran: second steps' webhooks, calls the simulator took, keypad acks."""
    second = sum(1 for a in rec.arrivals if isinstance(a.body, dict) and a.body.get("step") == 1)
    q = "SELECT count(*) FROM incidents WHERE service_id = 'pager' AND acknowledged_via IS NOT NULL"
    acked = store.rows(q)[0][0]
    return (
        f"escalations: {second:,} second-step webhooks, {len(sim.calls):,} calls reached the Twilio "
        f"simulator, {acked:,} incidents acknowledged by their callee"
    )


async def finish(
    s: Soak, rec: Receiver, sim: TwilioSimulator, started: float, size0: int, probers: list[Peer]
) -> None:
    a, pager, reader = s.args, s.pager, s.reader
    assert pager is not None and reader is not None
    seconds = time.monotonic() - started
    for peer, _ in generators(s):
        await asyncio.to_thread(peer.process.wait, 60)
    # What was accepted is drained, and the last new alerts are paged (or counted as lost).
    deadline = time.monotonic() + max(a.page_timeout, a.drain_timeout)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        s.pages(rec)
        if not s.store.queued() and not pager.overdue(time.time(), 0):
            break
    s.report(rec, started, final=True)
    total = counts([out for _, out in generators(s)])
    accepted = total.get("alerts", 0)
    stored, queued = s.store.stored(FLOODS)  # each flood's service and integration share its name
    lost_alerts = max(0, accepted - stored - queued)
    lost_pages = len(pager.overdue(time.time(), 0))
    gen_errors = total.get("errors", 0)
    logs = log_errors(s.koban)
    logged = sum(map(len, logs.values()))
    errors = gen_errors + pager.errors.count + reader.errors.count + lost_alerts + lost_pages + logged
    for what, samples in (("pager", pager.errors.samples), ("API", reader.errors.samples)):
        for sample in samples:
            print(f"  error ({what}): {sample}")
    for sample in total.get("samples", []):
        print(f"  error (ingest): {sample}")
    for peer in s.koban:
        if logs.get(peer.name):  # the first error with what follows it (a traceback's frames)
            text = peer.log_path.read_text(errors="replace").splitlines()
            first = text.index(logs[peer.name][0])
            for line in text[first : first + 30]:
                print(f"  error ({peer.name} log): {line[:300]}")
    growth = max(s.growth[-1:], default=float("nan"))
    p99 = percentile(sorted(s.waits), 99) * 1000
    # Probers flush what they buffered on SIGTERM: the size is read after they stop.
    for peer in probers:
        await peer.stop(grace=60)
    tables = s.store.table_sizes()
    probe_bytes = sum(tables.get(name, 0) for name in PROBE_TABLES)
    raw, rollups = s.store.probe_rows()
    by_width = ", ".join(f"{n:,} of {w:g} s" for w, n in sorted(rollups.items()))
    # The probes ran from the probers' start to their stop, set-up and the final drain included.
    want = predict(a.monitors, a.interval, time.monotonic() - s.probing_since)
    size = s.store.size()
    print(escalations(rec, sim, s.store))
    print(
        f"ingest: {accepted:,} flood alerts accepted, {stored:,} stored as incidents' alerts "
        f"and {queued:,} still queued ({lost_alerts:,} lost); "
        f"new alerts: {len(pager.answered):,} accepted, {len(pager.paged):,} paged "
        f"({lost_pages} lost); koban log ERROR lines { ({k: len(v) for k, v in logs.items()}) }"
    )
    print(
        f"database at the end {size / MiB:,.1f} MiB (after the seed {size0 / MiB:,.1f} MiB): probe tables "
        f"{probe_bytes / MiB:,.1f} MiB for {raw:,} raw rows and rollup rows {by_width or 'none'}, predicted "
        f"{want.bytes / MiB:,.1f} MiB for {want.raw_rows:,.0f} raw, {want.minute_rows:,.0f} minute, "
        f"{want.hour_rows:,.0f} hour, {want.day_rows:,.0f} day rows; "
        "the rest (config, incidents, alerts, deliveries, inbox) "
        f"{(size - probe_bytes) / MiB:,.1f} MiB"
    )
    print(
        f"RESULT soak {seconds / 60:.1f} min on {'PostgreSQL' if a.database_url else 'SQLite'} "
        f"({a.instances} instance{'s' if a.instances > 1 else ''}): RSS growth after the baseline "
        f"{growth:+.1%} (target < 5%); alert-to-page p99 {p99:.0f} ms over {len(s.waits)} pages "
        f"(target < 250 ms); errors {errors} (target 0); database {size / MiB:,.1f} MiB, probe tables "
        f"{probe_bytes / MiB:,.1f} MiB vs {want.bytes / MiB:,.1f} MiB predicted; load average {loadavg()}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--database-url", help="a PostgreSQL server: a scratch database is created on it")
    p.add_argument("--instances", type=int, default=1, help="koban serve processes (>1 needs PostgreSQL)")
    p.add_argument("--probers", type=int, default=2, help="koban probe --shard processes (0: serve probes)")
    p.add_argument("--monitors", type=int, default=50_000)
    p.add_argument("--interval", type=float, default=60.0, help="seconds between a monitor's probes")
    p.add_argument("--rate-1", type=float, default=8_500.0, help="alerts/s sent 1 per request (0: none)")
    p.add_argument(
        "--rate-100", type=float, default=130_000.0, help="alerts/s sent 100 per request (0: none)"
    )
    p.add_argument(
        "--connections",
        type=int,
        default=32,
        help="keep-alive connections of each ingest stream: rate x answer time must fit in them",
    )
    p.add_argument("--pages", type=float, default=2.5, help="new fingerprints per second, each paged")
    p.add_argument("--cps", type=float, default=5.0, help="the voice channel's (and simulator's) calls/s")
    p.add_argument("--escalate-after", type=float, default=10.0, help="seconds before the phone step")
    p.add_argument("--resolve-after", type=float, default=30.0, help="seconds before a new alert resolves")
    p.add_argument("--api-rate", type=float, default=4.0, help="API reads per second, one at a time")
    p.add_argument("--baseline-minutes", type=float, default=5.0, help="RSS growth is counted from here")
    p.add_argument(
        "--drain-timeout", type=float, default=300.0, help="seconds the end waits for the inbox to drain"
    )
    p.add_argument("--report-every", type=float, default=60.0, help="seconds between reports")
    p.add_argument("--page-timeout", type=float, default=30.0, help="a new alert unpaged this long is lost")
    asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    main()
