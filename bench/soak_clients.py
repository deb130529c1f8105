"""The soak's clients in the bench's own loop: new alerts that must page, and API reads.

``Pager`` sends an alert with a new fingerprint every ``1 / rate`` seconds to the paging service
(instances in turn), notes when its 2xx came, and resolves it ``resolve_after`` seconds later, as
Prometheus would once the rule stops firing. Its page is the first step's webhook reaching the
bench's receiver (bench/wake_receiver.py stamps arrivals); alert-to-page is that arrival minus the
2xx. A 429 is the backlog's bound (expected): the alert is sent again after its ``Retry-After``, and
the clock starts at the 2xx that finally takes it. ``Reader`` asks the API one request at a time.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import orjson

from bench.probe_seed import monitor_id
from bench.soak_setup import key
from bench.wake_receiver import Receiver
from koban.sources._fields import label_fingerprint

PATH = "/api/v2/alerts"


@dataclass
class Errors:
    count: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.count += 1
        if len(self.samples) < 10:
            self.samples.append(what)


@dataclass
class Pager:
    urls: list[str]
    rate: float
    resolve_after: float
    errors: Errors = field(default_factory=Errors)
    answered: dict[str, float] = field(default_factory=dict)  # fingerprint -> its 2xx
    paged: dict[str, float] = field(default_factory=dict)  # fingerprint -> its first page's arrival
    limited: int = 0
    _seen: int = 0  # receiver arrivals already read

    def read_pages(self, rec: Receiver) -> list[tuple[float, float]]:
        """New first pages since the last call: (arrival, alert-to-page seconds) each."""
        out = []
        arrivals = rec.arrivals[self._seen :]
        self._seen += len(arrivals)
        for a in arrivals:
            body = a.body if isinstance(a.body, dict) else {}
            fp = (body.get("incident") or {}).get("dedup_key")
            if body.get("kind") != "page" or body.get("step") != 0 or fp not in self.answered:
                continue
            if fp not in self.paged:
                self.paged[fp] = a.at
                out.append((a.at, max(0.0, a.at - self.answered[fp])))
        return out

    def overdue(self, now: float, within: float) -> list[str]:
        return [fp for fp, at in self.answered.items() if fp not in self.paged and now - at > within]

    async def run(self, until: float) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            resolves: set[asyncio.Task[None]] = set()
            n = 0
            started = time.monotonic()
            while time.monotonic() < until:
                labels = {"alertname": "SoakPage", "instance": f"page-{n}", "severity": "page"}
                url = self.urls[n % len(self.urls)]
                if await self._send(session, url, labels, resolved=False):
                    self.answered[label_fingerprint(labels)] = time.time()
                    task = asyncio.create_task(self._resolve_later(session, url, labels))
                    resolves.add(task)
                    task.add_done_callback(resolves.discard)
                n += 1
                await asyncio.sleep(max(0.0, started + n / self.rate - time.monotonic()))
            for task in list(resolves):
                task.cancel()
            await asyncio.gather(*resolves, return_exceptions=True)

    async def _resolve_later(self, session: aiohttp.ClientSession, url: str, labels: dict[str, str]) -> None:
        await asyncio.sleep(self.resolve_after)
        await self._send(session, url, labels, resolved=True)

    async def _send(
        self, session: aiohttp.ClientSession, url: str, labels: dict[str, str], resolved: bool
    ) -> bool:
        alert: dict[str, object] = {"labels": labels}
        if resolved:
            alert["endsAt"] = datetime.now(UTC).isoformat()
            alert["startsAt"] = datetime.fromtimestamp(time.time() - self.resolve_after - 1, UTC).isoformat()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key('pager')}"}
        for _ in range(30):  # a 429 is retried after its Retry-After, as Alertmanager does
            try:
                async with session.post(url + PATH, data=orjson.dumps([alert]), headers=headers) as r:
                    await r.read()
                    if 200 <= r.status < 300:
                        return True
                    if r.status != 429:
                        self.errors.add(f"pager POST -> HTTP {r.status}")
                        return False
                    self.limited += 1
                    wait = float(r.headers.get("Retry-After", "1") or 1)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.errors.add(f"pager POST: {type(exc).__name__}: {exc}")
                return False
            await asyncio.sleep(min(wait, 5.0))
        self.errors.add("pager POST: still 429 after 30 tries")
        return False


@dataclass
class Reader:
    """API reads, one at a time at ``rate`` per second, over the pages people and scripts ask for."""

    urls: list[str]
    token: str
    rate: float
    monitors: int
    errors: Errors = field(default_factory=Errors)
    latencies: list[float] = field(default_factory=list)  # ms, drained by each minute's report

    def paths(self, n: int) -> str:
        rng = random.Random(n)
        return [
            "/api/v1/incidents?limit=50",
            "/api/v1/incidents?status=open&limit=50",
            f"/api/v1/monitors?offset={rng.randrange(max(1, self.monitors - 100))}&limit=100",
            f"/api/v1/monitors/{monitor_id(rng.randrange(max(1, self.monitors)))}/results?since=1h",
            "/api/v1/oncall",
        ][n % 5]

    async def run(self, until: float) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            n = 0
            started = time.monotonic()
            while time.monotonic() < until:
                url = self.urls[n % len(self.urls)] + self.paths(n)
                t = time.perf_counter()
                try:
                    async with session.get(url) as r:
                        await r.read()
                        if r.status != 200:
                            self.errors.add(f"GET {url} -> HTTP {r.status}")
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self.errors.add(f"GET {url}: {type(exc).__name__}: {exc}")
                self.latencies.append((time.perf_counter() - t) * 1000)
                n += 1
                await asyncio.sleep(max(0.0, started + n / self.rate - time.monotonic()))
