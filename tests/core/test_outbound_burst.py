"""core/outbound.py in a burst (issue 17, item 15): the timeout measures the request, not the wait
for a connection in koban's own pool, and the pool is not the bottleneck.

The receiver runs in its own process, so the burst's two ends do not share one event loop (on a
busy machine that loop's lag, not the pool, would decide the outcome).
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import urllib.request
from collections.abc import AsyncIterator

import pytest

from koban.core import outbound
from koban.testing.ports import free_port
from tests.support.outbound import _close_outbound_session  # noqa: F401  (autouse fixture)

# The old pool held 200 connections and its timeout counted the wait for one: 700 requests were
# four waves of 0.5 s, and the last wave timed out at 1.9 s although each answer took 0.5 s.
BURST = 700
TIMEOUT = 1.9

RECEIVER = """
import asyncio, collections, json, sys
from aiohttp import web
seen = collections.Counter()
async def hook(request):
    seen[request.headers["Idempotency-Key"]] += 1
    await asyncio.sleep(0.5)
    return web.json_response({"ok": True})
async def count(request):
    return web.json_response(seen)
app = web.Application()
app.router.add_post("/hook", hook)
app.router.add_get("/count", count)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), backlog=4096, access_log=None, print=None)
"""


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310  (loopback)
            return bytes(r.read())
    except OSError:
        return None


@pytest.fixture
async def slow_receiver() -> AsyncIterator[str]:
    """A webhook receiver answering every request in 0.5 s and counting them by idempotency key."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", RECEIVER, str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if await asyncio.to_thread(_get, f"{base}/count") is not None:
                break
            await asyncio.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        await proc.wait()


async def test_a_burst_to_a_receiver_answering_in_half_a_second_records_no_timeouts(slow_receiver):
    async def send(i: int) -> int | str:
        try:
            r = await outbound.request(
                "POST",
                f"{slow_receiver}/hook",
                headers={"Idempotency-Key": f"p{i}"},
                body=b"{}",
                timeout=TIMEOUT,
            )
        except outbound.OutboundError as exc:
            return f"{exc} (sent={exc.sent})"
        return r.status

    results = await asyncio.gather(*(send(i) for i in range(BURST)))
    failures = collections.Counter(r for r in results if r != 200)
    assert not failures, failures.most_common(3)
    seen = json.loads(await asyncio.to_thread(_get, f"{slow_receiver}/count") or b"{}")
    assert len(seen) == BURST and max(seen.values()) == 1  # each page once: no doubles
