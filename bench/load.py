"""HTTP load generators for the benches: an aiohttp one (always there) and a ``wrk`` wrapper.

On a 2-core machine the Python client tops out near 8,000 req/s keep-alive (peers.md), below what
nginx or Alertmanager can take, so benches prefer wrk when installed and say which tool measured.

    python -m bench.load http://127.0.0.1:8080/tiny -c 50 -d 5
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

MAX_SECONDS = 60.0  # hard bound on any single run, whatever the caller asks
DEFAULT_REQUESTS = 10_000


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    errors: int  # transport errors, non-2xx answers, and bodies that failed ``check``
    seconds: float
    p50_ms: float
    p99_ms: float
    items_per_request: int = 1

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def items_per_s(self) -> float:
        return self.requests_per_s * self.items_per_request

    def summary(self) -> str:
        return (
            f"{self.tool}: {self.requests} requests in {self.seconds:.2f}s"
            f" = {self.requests_per_s:,.0f} req/s, "
            f"{self.items_per_s:,.0f} items/s, p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, "
            f"{self.errors} errors"
        )


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def run_load(
    url: str,
    *,
    method: str = "GET",
    bodies: Sequence[bytes] = (),
    headers: Mapping[str, str] | None = None,
    concurrency: int = 20,
    requests: int | None = None,
    duration: float | None = None,
    items_per_request: int = 1,
    check: Callable[[bytes], bool] | None = None,
) -> LoadResult:
    """``concurrency`` keep-alive connections sending ``bodies`` in rotation.

    Stops after ``requests`` requests or ``duration`` seconds (default 10,000 requests), never
    later than MAX_SECONDS.
    """
    if requests is None and duration is None:
        requests = DEFAULT_REQUESTS
    limit_s = min(duration or MAX_SECONDS, MAX_SECONDS)
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)

    async def worker(session: aiohttp.ClientSession, deadline: float) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            n = next(counter)
            if requests is not None and n >= requests:
                return
            body = bodies[n % len(bodies)] if bodies else None
            started = time.perf_counter()
            try:
                async with session.request(method, url, data=body, headers=headers) as resp:
                    payload = await resp.read()
                    ok = 200 <= resp.status < 300 and (check is None or check(payload))
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        deadline = started + limit_s
        await asyncio.gather(*(worker(session, deadline) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        tool=f"aiohttp c{concurrency}",
        requests=len(latencies),
        errors=errors,
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        items_per_request=items_per_request,
    )


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


# wrk's Lua hooks: rotate through the given bodies and print one JSON line we can parse.
_WRK_LUA = """
wrk.method = {method}
{headers}
local bodies = {{ {bodies} }}
local i = 0
function request()
  if #bodies == 0 then return wrk.format() end
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {{"requests":%d,"duration_us":%d,"status_errors":%d,' ..
    '"socket_errors":%d,"p50_us":%d,"p99_us":%d}}\\n', summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(value: bytes | str) -> str:
    text = value.decode() if isinstance(value, bytes) else value
    level = "="
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def run_wrk(
    url: str,
    *,
    method: str = "GET",
    bodies: Sequence[bytes] = (),
    headers: Mapping[str, str] | None = None,
    connections: int = 20,
    threads: int = 2,
    duration: float = 5.0,
    items_per_request: int = 1,
) -> LoadResult:
    """Same measurement through wrk (needs ``apt-get install wrk``); counts >399 as errors."""
    seconds = max(1, round(min(duration, MAX_SECONDS)))
    # The spaces matter: `headers[[=[` would open a Lua long string.
    header_lines = "\n".join(
        f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in (headers or {}).items()
    )
    script = _WRK_LUA.format(
        method=_lua_string(method),
        headers=header_lines,
        bodies=", ".join(_lua_string(b) for b in bodies),
    )
    with tempfile.TemporaryDirectory(prefix="koban-wrk-") as tmp:
        lua = Path(tmp) / "load.lua"
        lua.write_text(script)
        argv = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "-s", str(lua)]
        proc = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 30, check=False)
    match = re.search(r"^WRKJSON (.*)$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    data = json.loads(match.group(1))
    return LoadResult(
        tool=f"wrk c{connections}",
        requests=data["requests"],
        errors=data["status_errors"] + data["socket_errors"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        items_per_request=items_per_request,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("-n", "--requests", type=int, default=None)
    parser.add_argument("-d", "--duration", type=float, default=None, help="seconds (max 60)")
    parser.add_argument("-m", "--method", default="GET")
    parser.add_argument("--body-file", type=Path, help="request body, sent on every request")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--wrk", action="store_true", help="also measure with wrk when installed")
    args = parser.parse_args(argv)
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    bodies = [args.body_file.read_bytes()] if args.body_file else []
    result = asyncio.run(
        run_load(
            args.url,
            method=args.method,
            bodies=bodies,
            headers=headers,
            concurrency=args.concurrency,
            requests=args.requests,
            duration=args.duration,
        )
    )
    print(result.summary())
    if args.wrk and have_wrk():
        wrk = run_wrk(
            args.url,
            method=args.method,
            bodies=bodies,
            headers=headers,
            connections=args.concurrency,
            duration=args.duration or 5.0,
        )
        print(wrk.summary())


if __name__ == "__main__":
    main()
