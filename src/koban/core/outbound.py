"""All outbound HTTP goes through here: timeouts, redirect limit, user agent, one session per loop.

Channels call ``request(...)`` and get an ``OutboundResponse`` or an ``OutboundError`` whose
``sent`` flag says whether the request may have reached the peer (decides TRANSIENT vs IN_DOUBT).
Tests replace the transport at this seam with ``use_transport``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import aiohttp

from koban import __version__
from koban.core.retry_after import retry_after_of

USER_AGENT = f"koban/{__version__}"
DEFAULT_TIMEOUT = 10.0
MAX_REDIRECTS = 3


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def retry_after(self, now: float | None = None) -> float | None:
        """Seconds or an HTTP-date (core/retry_after.py); a date without the answer's own Date
        header is measured against ``now``, by default this host's clock."""
        return retry_after_of(self.headers, time.time() if now is None else now)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class OutboundError(Exception):
    """The request failed without a response. ``sent`` is True when bytes may have reached the peer."""

    def __init__(self, message: str, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


Transport = Callable[[str, str, Mapping[str, str], bytes | None, float], Awaitable[OutboundResponse]]

_sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}
_override: Transport | None = None


def use_transport(transport: Transport | None) -> None:
    """Route every outbound request through ``transport`` (tests), or back to aiohttp with None."""
    global _override
    _override = transport


def _session() -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        connector = aiohttp.TCPConnector(limit=200, ttl_dns_cache=60)
        session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": USER_AGENT})
        _sessions[loop] = session
    return session


async def close() -> None:
    loop = asyncio.get_running_loop()
    session = _sessions.pop(loop, None)
    if session is not None:
        await session.close()


async def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a per-request budget handed to aiohttp
) -> OutboundResponse:
    hdrs = dict(headers or {})
    if _override is not None:
        return await _override(method, url, hdrs, body, timeout)
    try:
        async with _session().request(
            method,
            url,
            headers=hdrs,
            data=body,
            timeout=aiohttp.ClientTimeout(total=timeout),
            max_redirects=MAX_REDIRECTS,
        ) as resp:
            data = await resp.read()
            return OutboundResponse(resp.status, dict(resp.headers), data)
    except (aiohttp.ClientConnectorError, aiohttp.InvalidURL) as exc:
        # Never connected: nothing left this machine.
        raise OutboundError(f"cannot connect: {exc}", sent=False) from exc
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise OutboundError(f"{type(exc).__name__}: {exc}", sent=True) from exc
