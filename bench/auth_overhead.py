"""What authentication costs a REST request: server CPU per request, open route vs guarded route.

A real uvicorn process serves ``bench.auth_app``: two routes that do the same nothing, one open and
one behind koban's guard. The client sends rounds of keep-alive requests to each in turn and reads
the server's CPU time from ``/proc`` (user + system) around each round, so the client's own work
is not counted. The difference per request is what authentication adds: an API token (cached for
a second: a SHA-256 and a dict lookup, then ``decide``) and, for comparison, a browser session
cookie (a database read per request).

    python -m bench.auth_overhead [--requests 4000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import machine
from koban.auth import api_tokens
from koban.auth.audit import Door, Origin
from koban.auth.login import start_session
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user
from koban.db.engine import Database
from koban.db.migrate import upgrade
from koban.testing.ports import free_port

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


async def seed(url: str) -> tuple[str, str]:
    issued = api_tokens.issue(secrets.token_bytes(24))
    session_id = secrets.token_urlsafe(32)
    db = Database(url)
    try:
        async with db.begin() as conn:
            now = time.time()
            await create_user(conn, "bench", now, password_hash=None, global_role=Role.VIEWER)
            await create_token(conn, issued, now, person_id="bench", name="bench", scope=Scope.READ)
            origin = Origin(None, Door.UI, "127.0.0.1", "bench")
            await start_session(conn, "bench", origin, now, session_id, "csrf", via_sso=False)
    finally:
        await db.dispose()
    return issued.text, session_id


def run_round(client: httpx.Client, pid: int, path: str, n: int, **kw: object) -> float:
    before = cpu_seconds(pid)
    for _ in range(n):
        r = client.get(path, **kw)  # type: ignore[arg-type]
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text}")
    return cpu_seconds(pid) - before


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.auth_overhead", description=__doc__)
    p.add_argument("--requests", type=int, default=4000, help="requests per round and route")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        token, session_id = asyncio.run(seed(url))
        port = free_port()
        env = {**os.environ, "KOBAN_BENCH_DB": url}
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.auth_app:app",
            "--port",
            str(port),
            "--log-level",
            "error",
        ]
        server = subprocess.Popen(cmd, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base) as client:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        client.get("/open")
                        break
                    except httpx.TransportError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
                routes = {
                    "open (no auth)": ("/open", {}),
                    "API token": ("/guarded", {"headers": {"Authorization": f"Bearer {token}"}}),
                    "session cookie": ("/guarded", {"cookies": {"koban_session": session_id}}),
                }
                cpu = dict.fromkeys(routes, 0.0)
                for path, kw in routes.values():  # warm up: caches, code paths
                    run_round(client, server.pid, path, 200, **kw)
                for _ in range(args.rounds):
                    for name, (path, kw) in routes.items():
                        cpu[name] += run_round(client, server.pid, path, args.requests, **kw)
        finally:
            server.terminate()
            server.wait(10)
    total = args.requests * args.rounds
    base_us = cpu["open (no auth)"] / total * 1e6
    print("\n## authentication's CPU per REST request (server process, /proc utime+stime)")
    print(f"# {machine()}; load average {os.getloadavg()[0]:.2f}; {total:,} requests per route")
    print(f"{'route':<16} {'CPU µs/req':>11} {'added µs':>9} {'ratio':>6}")
    for name in routes:
        us = cpu[name] / total * 1e6
        print(f"{name:<16} {us:>11.1f} {us - base_us:>9.1f} {us / base_us:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
