"""A digest over a day of logs on a real OpenSearch node: how long its queries and summary take.

    .venv/bin/python -m bench.log_digest [--docs 10000000] [--messages 5000] [--rounds 3]
        [--batch 20000] [--index bench-digest] [--url http://127.0.0.1:9200]

Without ``--url`` it starts the peer node (peers/opensearch, built by scripts/install-peers.sh) on a
free port and stops it by PID; its heap is 512 MB unless ``JAVA_OPTS=-Xmx2g`` says more. Every size
is a flag: small values prove the bench runs on a loaded machine (``tests/bench/test_log_digest_smoke.py``),
the default is issue 14's figure (a digest over 10 million documents a day: < 10 s).

``--docs`` documents are spread evenly over yesterday in Asia/Tokyo (the digest's window), 80% INFO,
15% WARN, 5% ERROR, with ``--messages`` distinct messages (10 patterns once numbers are masked, as
many as a digest lists). An index that already holds exactly ``--docs`` documents for that window
is reused (``--index``), since indexing 10 million documents takes far longer than the digest. Each of
``--rounds`` rounds times ``digests.summary_of`` (the window's query, the history query for new
patterns and movers over the 4 weeks before, and the summary), the work a scheduled run does before
posting; the node's request cache is cleared before each round so no round reads the last one's
answer. It checks the level counts add up to ``--docs``, and prints how many documents the listed
patterns cover: patterns are merged from the top ``queries.MESSAGE_BUCKETS`` distinct messages only,
so with more distinct messages than that they cover only part of the day.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from bench.common import machine
from bench.log_rules import cpu_seconds, start_node
from koban.config.model_logs import Digest, LogCluster
from koban.core import outbound
from koban.logs.digests import due_window, summary_of
from koban.logs.windows import Window

ZONE = "Asia/Tokyo"
MAPPING = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"},
    "mappings": {
        "properties": {
            "@timestamp": {"type": "date"},
            "level": {"type": "keyword"},
            "service": {"type": "keyword"},
            "message": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}},
        }
    },
}
VERBS = ("payment", "login", "checkout", "search", "upload", "refund", "signup", "export", "import", "sync")


def level_of(i: int) -> str:
    r = i % 20
    return "ERROR" if r == 0 else "WARN" if r <= 3 else "INFO"


def message_of(i: int, messages: int) -> str:
    """One of ``messages`` distinct texts: 10 patterns (one per verb) once the numbers are masked."""
    m = i % messages
    return f"{VERBS[m % len(VERBS)]} step {m // len(VERBS) % 10} took {m % 997} ms for shard {m % 13}"


def digest(index: str) -> Digest:
    return Digest.model_validate({
        "id": "bench", "cluster": "local", "index": index, "channels": ["log"],
        "schedule": {"cron": "0 9 * * *", "timezone": ZONE}, "window": "yesterday",
    })  # fmt: skip


async def count(s: aiohttp.ClientSession, url: str, index: str, window: Window) -> int:
    rng = {"range": {"@timestamp": {"gte": window.start.isoformat(), "lt": window.end.isoformat()}}}
    async with s.post(f"{url}/{index}/_count", json={"query": rng}) as r:
        return int((await r.json()).get("count", -1)) if r.status == 200 else -1


async def fill(url: str, index: str, window: Window, args: argparse.Namespace) -> float:
    """Index ``--docs`` documents over the window (unless it holds them already); seconds taken."""
    async with aiohttp.ClientSession() as s:
        if await count(s, url, index, window) == args.docs:
            print(f"index {index} holds {args.docs} documents for the window already: reused")
            return 0.0
        async with s.delete(f"{url}/{index}") as r:
            await r.read()
        async with s.put(f"{url}/{index}", json=MAPPING) as r:
            assert r.status == 200, await r.text()
        start, span = window.start.timestamp(), window.end.timestamp() - window.start.timestamp()
        began = time.monotonic()
        action = json.dumps({"index": {}})
        for lo in range(0, args.docs, args.batch):
            lines = []
            for i in range(lo, min(args.docs, lo + args.batch)):
                at = datetime.fromtimestamp(start + span * i / args.docs, window.start.tzinfo)
                doc = {"@timestamp": at.isoformat(), "level": level_of(i), "service": f"s{i % 7}",
                       "message": message_of(i, args.messages)}  # fmt: skip
                lines.append(action + "\n" + json.dumps(doc) + "\n")
            async with s.post(f"{url}/{index}/_bulk", data="".join(lines).encode(),
                              headers={"Content-Type": "application/x-ndjson"}) as r:  # fmt: skip
                body = await r.json()
                assert r.status == 200 and not body["errors"], str(body)[:2000]
        async with s.put(f"{url}/{index}/_settings", json={"index": {"refresh_interval": "1s"}}) as r:
            await r.read()
        async with s.post(f"{url}/{index}/_refresh") as r:
            await r.read()
        async with s.post(f"{url}/{index}/_forcemerge?max_num_segments=1") as r:
            await r.read()  # as a day's index is once it rolls over
        return time.monotonic() - began


async def rounds(url: str, index: str, window: Window, args: argparse.Namespace, pid: int | None) -> None:
    d, cluster = digest(index), LogCluster.model_validate({"id": "local", "url": url})
    took: list[float] = []
    cpu0 = cpu_seconds(pid)
    async with aiohttp.ClientSession() as s:
        for i in range(args.rounds):
            async with s.post(f"{url}/{index}/_cache/clear?request=true") as r:
                await r.read()
            began = time.perf_counter()
            summary = await summary_of(cluster, d, window)
            took.append(time.perf_counter() - began)
            counted = sum(summary.levels.values())
            ok = "" if counted == args.docs == summary.total else f" (MISMATCH: levels {counted}, total)"
            listed = sum(p.count for p in summary.patterns)
            print(f"round {i}: {took[-1]:.2f} s, {summary.total} documents, {len(summary.patterns)} "
                  f"patterns listed covering {listed} documents, peak hour {summary.peak_hour} "
                  f"({summary.peak_count}){ok}")  # fmt: skip
    cpu1 = cpu_seconds(pid)
    cpu = f", node CPU {cpu1 - cpu0:.1f} s" if cpu0 is not None and cpu1 is not None else ""
    print(f"RESULT digest over {args.docs} documents ({args.messages} messages): {len(took)} rounds, p50 "
          f"{statistics.median(took):.2f} s, max {max(took):.2f} s{cpu}")  # fmt: skip


async def main_async(args: argparse.Namespace) -> None:
    proc, url = None, args.url
    if url is None:
        proc, url = start_node(Path(tempfile.mkdtemp(prefix="bench-os-")))
    try:
        print(machine())
        window = due_window(digest(args.index), datetime.now(ZoneInfo(ZONE)))
        assert window is not None
        took = await fill(url, args.index, window, args)
        if took:
            print(f"indexed {args.docs} documents in {took:.1f} s")
        await rounds(url, args.index, window, args, proc.pid if proc else None)
        print("load average after", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        await outbound.close()
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    p.add_argument("--docs", type=int, default=10_000_000, help="documents in the day's window")
    p.add_argument("--messages", type=int, default=5000, help="distinct messages among them")
    p.add_argument("--rounds", type=int, default=3, help="digests timed")
    p.add_argument("--batch", type=int, default=20_000, help="documents per _bulk request")
    p.add_argument("--index", default="bench-digest", help="the index (reused when it holds --docs)")
    p.add_argument("--url", default=None, help="a running node (default: start the peer node)")
    args = p.parse_args(argv)
    if min(args.docs, args.messages, args.rounds, args.batch) < 1:
        p.error("--docs, --messages, --rounds and --batch must be at least 1")
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
