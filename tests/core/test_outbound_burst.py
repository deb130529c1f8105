"""core/outbound.py in a burst (issue 17, item 15): koban's own pool never holds a page back, and a
request's timeout measures the request, not its wait for a connection.

Each test decides its outcome by what the receiver saw, never by how fast a loaded machine is:
the burst is held by a barrier that opens only once every request has arrived (a pool smaller than
the burst would leave it shut), and the pool-wait tests wait seconds where the budgets differ.
The receiver runs in its own process, so the two ends do not share one event loop.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import time
import urllib.request
from collections.abc import AsyncIterator

import pytest

from koban.core import outbound
from koban.testing.ports import free_port
from tests.support.outbound import _close_outbound_session  # noqa: F401  (autouse fixture)

# More than the old pool's 200 connections and than the worker's default concurrency (256).
BURST = 700
# Generous: a healthy run ends as soon as the last request arrives; only a shut barrier waits this long.
BURST_TIMEOUT = 60.0

RECEIVER = """
import asyncio, collections, sys
from aiohttp import web
burst = int(sys.argv[2])
seen = collections.Counter()
everyone_arrived = asyncio.Event()
async def hook(request):
    seen[request.headers["Idempotency-Key"]] += 1
    if len(seen) >= burst:
        everyone_arrived.set()
    await everyone_arrived.wait()
    return web.json_response({"ok": True})
holding = 0
async def hold(request):
    global holding
    holding += 1
    await asyncio.sleep(float(request.query["s"]))
    return web.json_response({"held": True})
async def fast(request):
    return web.json_response({"fast": True})
async def count(request):
    return web.json_response(seen)
async def holds(request):
    return web.json_response(holding)
app = web.Application()
app.router.add_post("/hook", hook)
app.router.add_get("/hold", hold)
app.router.add_get("/fast", fast)
app.router.add_get("/count", count)
app.router.add_get("/holds", holds)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), backlog=4096, access_log=None, print=None)
"""


async def _holding_the_only_connection(base: str, hold_s: float) -> asyncio.Task:
    """Start a request that the receiver holds for ``hold_s`` and return once it has arrived there."""
    task = asyncio.create_task(outbound.request("GET", f"{base}/hold?s={hold_s}", timeout=60))
    for _ in range(200):
        if json.loads(await asyncio.to_thread(_get, f"{base}/holds") or b"0"):
            return task
        await asyncio.sleep(0.05)
    pytest.fail("the held request never arrived")


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310  (loopback)
            return bytes(r.read())
    except OSError:
        return None


@pytest.fixture
async def receiver() -> AsyncIterator[str]:
    """A webhook receiver: /hook answers once BURST requests have arrived, counting them by
    idempotency key; /hold?s= answers after s seconds; /fast at once."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", RECEIVER, str(port), str(BURST))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            if await asyncio.to_thread(_get, f"{base}/count") is not None:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the receiver did not start")
        yield base
    finally:
        proc.terminate()
        await proc.wait()


async def test_a_burst_larger_than_any_pool_reaches_the_receiver_at_once_and_once_each(receiver):
    async def send(i: int) -> int | str:
        try:
            r = await outbound.request(
                "POST",
                f"{receiver}/hook",
                headers={"Idempotency-Key": f"p{i}"},
                body=b"{}",
                timeout=BURST_TIMEOUT,
            )
        except outbound.OutboundError as exc:
            return f"{exc} (sent={exc.sent})"
        return r.status

    results = await asyncio.gather(*(send(i) for i in range(BURST)))
    failures = collections.Counter(r for r in results if r != 200)
    assert not failures, failures.most_common(3)
    seen = json.loads(await asyncio.to_thread(_get, f"{receiver}/count") or b"{}")
    assert len(seen) == BURST and max(seen.values()) == 1  # each page once: no doubles


async def test_the_timeout_starts_when_the_request_has_a_connection(receiver, monkeypatch):
    """With a pool of one, the second request waits up to 3 s for the first to finish; its own 1.5 s
    budget starts only then, and the fast answer arrives well inside it."""
    monkeypatch.setattr(outbound, "CONNECTION_LIMIT", 1)
    first = await _holding_the_only_connection(receiver, 3)
    started = time.monotonic()
    second = await outbound.request("GET", f"{receiver}/fast", timeout=1.5)
    assert second.status == 200
    assert time.monotonic() - started > 1.5  # it did wait longer than its budget, in the pool
    assert (await first).status == 200


async def test_a_request_that_never_gets_a_connection_is_not_sent(receiver, monkeypatch):
    monkeypatch.setattr(outbound, "CONNECTION_LIMIT", 1)
    monkeypatch.setattr(outbound, "POOL_WAIT", 1.0)
    first = await _holding_the_only_connection(receiver, 6)
    with pytest.raises(outbound.OutboundError) as failed:
        await outbound.request("GET", f"{receiver}/fast", timeout=0.2)
    assert failed.value.sent is False  # never left the pool: safe to send again
    assert "no connection" in str(failed.value)
    first.cancel()
