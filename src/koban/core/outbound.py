"""All outbound HTTP goes through here: timeouts, redirect limit, user agent, one session per loop.

Channels call ``request(...)`` and get an ``OutboundResponse`` or an ``OutboundError`` whose
``sent`` flag says whether the request may have reached the peer (decides TRANSIENT vs IN_DOUBT).
Tests replace the transport at this seam with ``use_transport``.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace

import aiohttp

from koban import __version__
from koban.core.retry_after import retry_after_of

USER_AGENT = f"koban/{__version__}"
DEFAULT_TIMEOUT = 10.0
MAX_REDIRECTS = 3
# How long a request may wait for a connection before it is given up as never sent (safe to retry).
POOL_WAIT = 30.0
# No connection limit of our own (0): the worker's concurrency (worker_concurrency) bounds the
# requests in flight, and a smaller pool made the pool, not the receiver, the bottleneck.
CONNECTION_LIMIT = 0


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


class _Deadline:
    """A request's budget, started when it has a connection, not while it waits in the pool.

    aiohttp's ``total`` counts the wait for a free connection of koban's own pool: in a burst, pages
    that the receiver answered in 0.5 s were recorded as timeouts, in doubt, and sent again. Here
    the wait has its own bound (``POOL_WAIT``), and a request that never left the pool is not sent.
    """

    __slots__ = ("scope", "timeout", "connected")

    def __init__(self, scope: asyncio.Timeout, timeout: float) -> None:
        self.scope, self.timeout, self.connected = scope, timeout, False

    def start(self) -> None:
        self.connected = True
        self.scope.reschedule(asyncio.get_running_loop().time() + self.timeout)


async def _on_connection(_session: object, ctx: SimpleNamespace, _params: object) -> None:
    deadline = ctx.trace_request_ctx
    if isinstance(deadline, _Deadline) and not deadline.connected:
        deadline.start()


def _session() -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        trace = aiohttp.TraceConfig()
        # The request has a connection: a new one (connected, TLS done) or a pooled one. Before
        # that nothing was sent; the connect itself is bounded by sock_connect, the rest by POOL_WAIT.
        trace.on_connection_create_end.append(_on_connection)
        trace.on_connection_reuseconn.append(_on_connection)
        connector = aiohttp.TCPConnector(limit=CONNECTION_LIMIT, ttl_dns_cache=60)
        session = aiohttp.ClientSession(
            connector=connector, headers={"User-Agent": USER_AGENT}, trace_configs=[trace]
        )
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
    ssl: _ssl.SSLContext | bool = True,
) -> OutboundResponse:
    """``ssl``: True verifies the peer against the system's CAs, an ``SSLContext`` against its own
    (a log cluster's ``ca_file``), False not at all (a cluster's ``verify_tls: false``)."""
    hdrs = dict(headers or {})
    if _override is not None:
        return await _override(method, url, hdrs, body, timeout)
    loop = asyncio.get_running_loop()
    deadline: _Deadline | None = None
    try:
        async with asyncio.timeout_at(loop.time() + max(timeout, POOL_WAIT)) as scope:
            deadline = _Deadline(scope, timeout)
            async with _session().request(
                method,
                url,
                headers=hdrs,
                data=body,
                # The budget is the deadline above; aiohttp's own total would count the pool wait.
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout),
                max_redirects=MAX_REDIRECTS,
                trace_request_ctx=deadline,
                ssl=ssl,
            ) as resp:
                data = await resp.read()
                return OutboundResponse(resp.status, dict(resp.headers), data)
    except aiohttp.ConnectionTimeoutError as exc:  # sock_connect: no connection, nothing sent
        raise OutboundError(f"cannot connect within {timeout:g}s", sent=False) from exc
    except TimeoutError as exc:
        if deadline is not None and not deadline.connected:
            raise OutboundError(f"no connection within {max(timeout, POOL_WAIT):g}s", sent=False) from exc
        raise OutboundError(f"timed out after {timeout:g}s", sent=True) from exc
    except (aiohttp.ClientConnectorError, aiohttp.InvalidURL) as exc:
        # Never connected: nothing left this machine.
        raise OutboundError(f"cannot connect: {exc}", sent=False) from exc
    except aiohttp.ClientError as exc:
        raise OutboundError(f"{type(exc).__name__}: {exc}", sent=True) from exc
