"""Name resolution with an IP-family preference, the way blackbox's ``chooseProtocol`` does it.

Resolution is timed separately (the ``resolve`` phase) and skipped for IP literals, which then cost 0.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import time
from dataclasses import dataclass


class ProbeError(Exception):
    """A probe failure with a message meant for humans ("connection refused by 127.0.0.1:81")."""


@dataclass(frozen=True, slots=True)
class Resolved:
    family: int
    ip: str
    seconds: float


@functools.lru_cache(maxsize=8192)
def _literal(host: str) -> Resolved | None:
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
    return Resolved(family, str(addr), 0.0)


async def resolve(host: str, port: int, prefer: str = "ip4", fallback: bool = True) -> Resolved:
    """Pick one address: the preferred family first, any other family only when ``fallback`` is on."""
    literal = _literal(host)
    if literal is not None:
        return literal
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter_ns()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ProbeError(f"DNS lookup for {host} failed: {exc.strerror or exc}") from None
    seconds = (time.perf_counter_ns() - t0) / 1e9
    want = socket.AF_INET6 if prefer == "ip6" else socket.AF_INET
    chosen = next((i for i in infos if i[0] == want), None)
    if chosen is None and fallback and infos:
        chosen = infos[0]
    if chosen is None:
        raise ProbeError(f"DNS lookup for {host} found no {prefer} address")
    ip = chosen[4][0]
    assert isinstance(ip, str)  # AF_INET/AF_INET6 addresses are (host, port, ...)
    return Resolved(chosen[0], ip, seconds)


def describe_os_error(exc: OSError, ip: str, port: int) -> str:
    """Readable reason for a failed connect: the errno's name matters more than the traceback."""
    target = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {target}"
    if isinstance(exc, ConnectionResetError):
        return f"connection reset by {target}"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot connect to {target}: {reason}"
