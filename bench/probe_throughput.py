"""Micro-benchmark: koban's HTTP probe against a local server, a new connection per probe.

    .venv/bin/python bench/probe_throughput.py [--seconds 10] [--concurrency 50] [--no-uvloop]
        [--runner] [--blackbox]

Target: nginx serving a tiny file (started here on 127.0.0.1 with one worker, the way peers.md measured
it), or a small asyncio server in a subprocess when nginx is missing. ``--runner`` drives the probes
through the scheduler Runner with a batched ``store`` callback (results kept, as in production) instead
of a bare loop. ``--blackbox`` also measures blackbox_exporter probing the same file with ``wrk``,
side by side, and prints the ratio. Not a test: numbers on a shared 2-core machine are noisy (+-15 %).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from koban.probes.http import HttpProbeConfig, probe_http
from koban.probes.runner import Monitor, Runner

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  server {{ listen 127.0.0.1:{port} reuseport backlog=4096; root {d}; location / {{ }} }}
}}
"""

FALLBACK_SERVER = """
import asyncio, sys
class P(asyncio.Protocol):
    def connection_made(self, t): self.t = t
    def data_received(self, d):
        if b"\\r\\n\\r\\n" in d:
            self.t.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n")
            self.t.close()
async def main():
    s = await asyncio.get_running_loop().create_server(P, "127.0.0.1", int(sys.argv[1]), backlog=4096)
    await s.serve_forever()
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def start_target(tmp: str) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    os.chmod(tmp, 0o755)  # nginx workers run as an unprivileged user
    with open(os.path.join(tmp, "health"), "w") as f:
        f.write("ok\n")
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx:
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(d=tmp, port=port))
        proc = subprocess.Popen([nginx, "-c", conf, "-p", tmp, "-e", os.path.join(tmp, "error.log")])
        kind = "nginx (1 worker)"
    else:
        proc = subprocess.Popen([sys.executable, "-c", FALLBACK_SERVER, str(port)])
        kind = "asyncio server"
    wait_port(port)
    return proc, f"http://127.0.0.1:{port}/health", kind


async def bare_loop(url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    cfg = HttpProbeConfig(url, timeout=5.0)
    done = failed = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, failed
        while time.perf_counter() < deadline:
            result = await probe_http(cfg)
            done += 1
            failed += not result.success

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, failed


async def through_runner(url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    """Every monitor due every second: 5,000 monitors ask for 5,000 probes/s, more than we can do."""
    cfg = HttpProbeConfig(url, timeout=5.0)
    stored: list[int] = [0, 0]

    def store(batch: list) -> None:
        stored[0] += len(batch)
        stored[1] += sum(not r.success for r in batch)

    async def probe(_m: Monitor):
        return await probe_http(cfg)

    runner = Runner(probe, store, concurrency=concurrency, batch_size=500, flush_interval=0.5)
    for i in range(5000):
        runner.add(Monitor(id=f"m{i}", interval=1.0))
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(seconds)
    await runner.stop()
    await task
    return stored[0], stored[1]


def blackbox_rate(url: str, tmp: str, seconds: float) -> float | None:
    exe = shutil.which("prometheus-blackbox-exporter")
    wrk = shutil.which("wrk")
    if not exe or not wrk:
        return None
    port = free_port()
    conf = os.path.join(tmp, "blackbox.yml")
    with open(conf, "w") as f:
        f.write("modules:\n  http_2xx: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4}}\n")
    proc = subprocess.Popen(
        [exe, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        probe_url = f"http://127.0.0.1:{port}/probe?module=http_2xx&target={url}"
        out = subprocess.run(
            [wrk, "-t2", "-c20", f"-d{int(seconds)}s", probe_url], capture_output=True, text=True, check=True
        ).stdout
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        return float(match.group(1)) if match else None
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--no-uvloop", action="store_true")
    ap.add_argument("--runner", action="store_true", help="go through Runner with a batched store()")
    ap.add_argument("--blackbox", action="store_true", help="also measure blackbox_exporter + wrk")
    args = ap.parse_args()
    if not args.no_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, kind = start_target(tmp)
        try:
            mode = through_runner if args.runner else bare_loop
            t0 = time.perf_counter()
            done, failed = asyncio.run(mode(url, args.seconds, args.concurrency))
            elapsed = time.perf_counter() - t0
            rate = done / elapsed
            loop = "asyncio" if args.no_uvloop else "uvloop"
            print(f"target: {kind} {url}; loop: {loop}; mode: {'runner+store' if args.runner else 'bare'}")
            print(f"koban probe: {done} probes in {elapsed:.1f}s = {rate:,.0f} probes/s ({failed} failed)")
            if args.blackbox:
                bb = blackbox_rate(url, tmp, args.seconds)
                if bb is None:
                    print("blackbox_exporter or wrk not installed: no side-by-side figure")
                else:
                    print(f"blackbox_exporter: {bb:,.0f} probes/s; ratio koban/blackbox = {rate / bb:.2f}x")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
