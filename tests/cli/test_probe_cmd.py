"""`koban probe --location NAME` as its own process: probes what lists its location, stores results in
the shared database, stops cleanly on SIGTERM. Both databases."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import sqlalchemy as sa

from koban.db.engine import make_sync_engine
from tests.monitoring.support import config_with, http_monitor, until

KOBAN = str(Path(sys.executable).with_name("koban"))


async def test_probe_process_stores_results_for_its_location_and_stops_on_sigterm(
    db_url, tmp_path, http_server
):
    cfg = config_with(
        http_monitor(f"{http_server.base}/ok", ident="shop", locations=["tokyo"]),
        http_monitor(f"{http_server.base}/ok", ident="elsewhere", locations=["osaka"]),
    )
    path = tmp_path / "koban.yaml"
    path.write_text(cfg.model_dump_json())  # JSON is YAML
    env = {
        **os.environ,
        "KOBAN_DATABASE_URL": db_url,
        "KOBAN_DATA_DIR": str(tmp_path),
        "KOBAN_SECRET_KEY": "t",
    }
    applied = await asyncio.create_subprocess_exec(
        KOBAN, "config", "apply", str(path), env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await applied.wait() == 0
    proc = await asyncio.create_subprocess_exec(
        KOBAN,
        "probe",
        "--location",
        "tokyo",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    engine = make_sync_engine(db_url)
    try:

        async def stored() -> list:
            with engine.connect() as conn:
                return conn.execute(sa.text("SELECT monitor_id, location, success FROM probe_latest")).all()

        rows = await until(stored, "the prober process to store a result", seconds=60)
        assert [tuple(r) for r in rows] == [("shop", "tokyo", True)]
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        output = (await proc.stdout.read()).decode()
        assert "location 'tokyo'" in output and "(1 monitors)" in output
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        engine.dispose()


async def test_two_shard_processes_of_a_location_probe_every_monitor_once(db_url, tmp_path, http_server):
    idents = [f"shop-{i}" for i in range(6)]
    cfg = config_with(*(http_monitor(f"{http_server.base}/ok", ident=i, locations=["tokyo"]) for i in idents))
    path = tmp_path / "koban.yaml"
    path.write_text(cfg.model_dump_json())
    env = {
        **os.environ,
        "KOBAN_DATABASE_URL": db_url,
        "KOBAN_DATA_DIR": str(tmp_path),
        "KOBAN_SECRET_KEY": "t",
    }
    applied = await asyncio.create_subprocess_exec(
        KOBAN, "config", "apply", str(path), env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await applied.wait() == 0
    procs = [
        await asyncio.create_subprocess_exec(
            KOBAN,
            "probe",
            "--location=tokyo",
            f"--shard={i}/2",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for i in (1, 2)
    ]
    engine = make_sync_engine(db_url)
    try:

        async def stored() -> list:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT monitor_id FROM probe_latest")).all()
            return rows if len(rows) == len(idents) else []

        rows = await until(stored, "both shards to store every monitor", seconds=60)
        assert sorted(r[0] for r in rows) == idents
        counts = []
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
            output = (await proc.stdout.read()).decode()
            assert "shard " in output
            counts.append(int(output.split("(")[1].split(" monitors")[0]))
        assert sum(counts) == len(idents)  # disjoint shares that cover the location
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        engine.dispose()
