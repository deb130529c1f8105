"""Accepted means on disk: ``koban serve`` SIGKILLed while alerts pour in, on the inbox path
(Prometheus format) and on the generic JSON path, which processes each request as it answers it.

Forty senders post until the server dies (three rounds); each 2xx is noted, and one request in
five carries a bad alert beside a good one (refused whole with a 422). After a restart with the worker, every
alert that got a 2xx is an open incident and nothing from a refused request was stored. Requests
in flight at the kill may go either way: their senders saw no answer and would retry.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from koban.catalog.snapshot import hash_key
from koban.db import schema as t
from koban.db.engine import make_sync_engine
from koban.db.schema_inbox import ingest_inbox
from koban.sources._fields import label_fingerprint
from koban.testing.ports import free_port
from tests.support import koban_proc as kp

SENDERS = 40
KILL_AFTER = 300  # accepted requests per round
ROUNDS = 3


@dataclass(frozen=True)
class IngestPath:
    name: str
    url: str
    integration_type: str
    body: Callable[[dict[str, str], bool], Any]  # (good alert's labels, add a bad one) -> JSON
    key: Callable[[dict[str, str]], str]  # the incident key the good alert gets


PROMETHEUS = IngestPath(
    "prometheus",
    "/api/v2/alerts",
    "prometheus",
    lambda good, bad: [{"labels": good}] + ([{"labels": {}}] if bad else []),
    label_fingerprint,
)
# Issue 17, item 21: the generic JSON path answers with the incident ids, so it commits as it answers.
GENERIC = IngestPath(
    "generic",
    "/api/v1/ingest",
    "generic",
    lambda good, bad: (
        [{"summary": "down", "dedup_key": good["instance"], "severity": "critical"}]
        + ([{"severity": "critical"}] if bad else [])
    ),  # no summary: refused whole
    lambda good: good["instance"],
)


def config(path: IngestPath) -> dict:
    integration = {"id": "in", "type": path.integration_type, "key_hashes": [hash_key(kp.KEY)]}
    return {"services": [{"id": "web", "integrations": [integration]}]}


def labels(kind: str, sender: str, n: int) -> dict[str, str]:
    return {"alertname": kind, "instance": f"s{sender}-{n}"}


async def pour_until_killed(
    path: IngestPath, base: str, env: dict, log, round_: int, accepted: list, refused: list
) -> None:
    """Run ``serve --no-worker``, post from SENDERS senders, SIGKILL it after KILL_AFTER more 2xx."""
    proc = await kp.start(["serve", "--no-worker"], env, log)
    enough = asyncio.Event()
    goal = len(accepted) + KILL_AFTER
    headers = {"Authorization": f"Bearer {kp.KEY}"}
    try:
        await kp.wait_healthy(base, proc, log)

        async def sender(http: aiohttp.ClientSession, i: int) -> None:
            n = 0
            while True:
                n += 1
                good = labels("Accepted", f"{round_}.{i}", n)
                bad = n % 5 == 0
                body = path.body(good, bad)
                try:
                    async with http.post(path.url, json=body, headers=headers) as r:
                        if r.status == 202 and not bad:
                            accepted.append(good)
                        elif r.status == 422 and bad:
                            refused.append(good)
                        else:
                            raise AssertionError(f"{r.status} {await r.text()} for bad={bad}")
                except aiohttp.ClientError:
                    return  # the server is gone
                if len(accepted) >= goal:
                    enough.set()

        async with aiohttp.ClientSession(base_url=base) as http:
            tasks = [asyncio.create_task(sender(http, i)) for i in range(SENDERS)]
            await asyncio.wait_for(enough.wait(), 60)
            proc.send_signal(signal.SIGKILL)  # mid-stream: other requests are in flight
            await proc.wait()
            await asyncio.gather(*tasks)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize("path", [PROMETHEUS, GENERIC], ids=lambda p: p.name)
async def test_every_alert_answered_2xx_survives_sigkill_and_becomes_an_incident(path, db_url, tmp_path):
    cfg = kp.write_config(tmp_path / "koban.yaml", config(path))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = kp.koban_env(db_url, tmp_path, port=port, config_file=cfg, sqlite_synchronous="FULL")
    log = tmp_path / "serve.log"
    accepted: list[dict[str, str]] = []
    refused: list[dict[str, str]] = []
    for round_ in range(ROUNDS):
        await pour_until_killed(path, base, env, log, round_, accepted, refused)
    assert len(accepted) >= ROUNDS * KILL_AFTER and refused

    proc = await kp.start(["serve"], env, log)  # with the worker: the drain empties the inbox
    engine = make_sync_engine(db_url)
    try:
        await kp.wait_healthy(base, proc, log)

        async def drained() -> bool:
            with engine.connect() as conn:
                return not conn.execute(sa.select(sa.func.count()).select_from(ingest_inbox)).scalar()

        await kp.wait_for(drained, 60, "the inbox to drain")
        with engine.connect() as conn:
            incidents = {
                key: status
                for key, status in conn.execute(sa.select(t.incidents.c.incident_key, t.incidents.c.status))
            }
            stored = set(conn.execute(sa.select(t.alerts.c.dedup_key)).scalars())
    finally:
        engine.dispose()
        assert await kp.stop(proc) == 0, kp.tail(log)
    for good in accepted:
        assert incidents.get(path.key(good)) == "triggered", good
    assert not stored & {path.key(good) for good in refused}
