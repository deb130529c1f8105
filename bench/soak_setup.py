"""The soak's set-up: its config, the seeded database, and the processes it starts (each stopped by PID).

One database (a SQLite file, or a scratch PostgreSQL database) holds the config and ``--monitors``
monitors written in bulk (bench/probe_seed.py), each probing its own URL on one local nginx. Then
the real processes start on it: ``--instances`` ``koban serve`` (API, ingest, worker), ``--probers``
``koban probe --shard i/N``, and two ``bench.soak_load`` generators. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.probe_seed import SERVICE, insert_monitors, monitor_rows
from koban.bootstrap.system import System
from koban.catalog.apply import apply_config
from koban.catalog.snapshot import hash_key
from koban.config.model import ConfigFile
from koban.core.settings import load_settings
from koban.fakes.twilio import TwilioSimulator
from koban.testing.process import Peer, spawn, start_peer

KOBAN = str(Path(sys.executable).with_name("koban"))
REPO = Path(__file__).resolve().parents[1]
SECRET = "soak-secret"
PHONE = "+15550100001"
# One integration per stream, each its own service and key: the two floods' services have no
# policy (their alerts open incidents that page nobody, as in bench.ingest_vs_alertmanager), the
# pager's alerts page through a webhook, then escalate to a phone call through the Twilio simulator.
STREAMS = {"flood1": None, "flood100": None, "pager": "page"}


def key(stream: str) -> str:
    return f"soak-{stream}-key-0123456789abcdef"


def config(hook_url: str, sim: TwilioSimulator, cps: float, escalate_after: float) -> ConfigFile:
    phone = {
        "id": "phone",
        "type": "voice",
        "account_sid": sim.account_sid,
        "auth_token": sim.auth_token,
        "from_number": sim.number,
        "api_base_url": sim.url,
        "calls_per_second": cps,
        "ring_timeout": 20,
    }
    services: list[dict[str, Any]] = [
        {
            "id": stream,
            **({"policy": policy} if policy else {}),
            "integrations": [{"id": stream, "type": "prometheus", "key_hashes": [hash_key(key(stream))]}],
        }
        for stream, policy in STREAMS.items()
    ]
    services.append({"id": SERVICE, "policy": "page"})  # the monitors' service
    steps = [
        {"notify": [{"channel": "hook"}], "escalate_after": escalate_after},
        {"notify": [{"channel": "hook"}, {"person": "alice"}], "escalate_after": "1h"},
    ]
    return ConfigFile.model_validate(
        {
            "people": [{"id": "alice", "contacts": {"phone": PHONE}, "notify": ["phone"]}],
            "channels": [{"id": "hook", "type": "webhook", "url": hook_url}, phone],
            "policies": [{"id": "page", "steps": steps}],
            "services": services,
            # Something for the API's "who is on call" to resolve.
            "schedules": [
                {
                    "id": "ops",
                    "timezone": "Europe/Paris",
                    "layers": [
                        {"name": "week", "members": ["alice"], "start": "2026-01-05", "handoff": "09:00"}
                    ],
                }
            ],
        }
    )


async def seed(workdir: Path, url: str, cfg: ConfigFile, monitors: int, target: str, interval: float) -> None:
    """The config and the monitors, written before any koban process starts (not timed)."""
    k = System(load_settings(database_url=url, data_dir=workdir, secret_key=SECRET))
    await k.start(worker=False)
    try:
        async with k.db.begin() as conn:
            await apply_config(conn, cfg, k.clock.now())
        await insert_monitors(k.db, monitor_rows(monitors, target, interval, timeout=10.0))
    finally:
        await k.stop()


def _env(workdir: Path, url: str, probe: bool) -> list[str]:
    return [
        "env",
        f"KOBAN_DATABASE_URL={url}",
        f"KOBAN_DATA_DIR={workdir}",
        f"KOBAN_SECRET_KEY={SECRET}",
        "KOBAN_LOG_LEVEL=WARNING",
        f"KOBAN_PROBE_ENABLED={'true' if probe else 'false'}",
    ]


async def start_instances(workdir: Path, url: str, count: int, probe: bool) -> list[Peer]:
    """``koban serve`` × ``count``; one at a time, so only the first runs the migrations."""
    peers = []
    for i in range(count):

        def argv(port: int) -> list[str]:
            # `env` exec's koban in place: the PID is koban's (RSS, stop), as in bench.wake_vs_prometheus.
            return [*_env(workdir, url, probe), KOBAN, "serve", "--host=127.0.0.1", f"--port={port}"]

        # Loading and validating tens of thousands of monitors happens before /healthz answers.
        peers.append(
            await start_peer(f"koban-{i + 1}", argv, workdir, ready_path="/healthz", ready_within=600)
        )
    return peers


async def start_probers(workdir: Path, url: str, count: int) -> list[Peer]:
    """``koban probe --shard i/count``; returns once each says it runs its monitors."""
    peers = [
        spawn(
            f"prober-{i}",
            [
                *_env(workdir, url, True),
                KOBAN,
                "probe",
                "--location=local",
                f"--shard={i}/{count}",
                "--no-migrate",
            ],
            workdir,
        )
        for i in range(1, count + 1)
    ]
    deadline = time.monotonic() + 600
    while not all("running" in p.log_path.read_text(errors="replace") for p in peers):
        for p in peers:
            if not p.running():
                raise RuntimeError(f"{p.name} exited {p.process.returncode}: {p.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError("probers did not start within 600 s")
        await asyncio.sleep(0.5)
    return peers


# A Python client's comfortable rate: above it, a stream's requests are split over more processes.
REQUESTS_PER_GENERATOR = 4_000.0


def start_generators(
    workdir: Path,
    stream: str,
    urls: list[str],
    per_request: int,
    rate: float,
    seconds: float,
    connections: int,
) -> list[tuple[Peer, Path]]:
    """``bench.soak_load`` processes sharing ``rate`` requests/s (at most 4): (peer, counts file) each."""
    n = max(1, min(4, math.ceil(rate / REQUESTS_PER_GENERATOR)))
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    out = []
    for i in range(1, n + 1):
        counts = workdir / f"{stream}-{i}.jsonl"
        argv = ["env", f"PYTHONPATH={path}", sys.executable, "-m", "bench.soak_load"]
        argv += [f"--url={u}" for u in urls]
        argv += [f"--key={key(stream)}", f"--alertname=Soak_{stream}", f"--per-request={per_request}"]
        argv += [f"--rate={rate / n:g}", f"--seconds={seconds:g}", f"--out={counts}", "--every=10"]
        argv += [f"--concurrency={max(2, connections // n)}"]
        out.append((spawn(f"load-{stream}-{i}", argv, workdir), counts))
    return out
