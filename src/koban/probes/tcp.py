"""TCP connect probe (optional send/expect, optional TLS) and the TLS certificate-expiry probe.

Both share one connect path with the same phase accounting as HTTP: ``resolve``, ``connect``, ``tls``,
then ``processing`` (send -> expected reply). The expiry probe judges the *earliest* expiry in the
presented chain (blackbox's ``probe_ssl_earliest_cert_expiry``): an expiring intermediate breaks
clients just as surely as an expiring leaf.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from dataclasses import dataclass, replace
from datetime import timedelta

from koban.probes.conditions import Conditions, apply_conditions
from koban.probes.net import ProbeError, describe_os_error, resolve
from koban.probes.result import CertInfo, Phases, ProbeResult, utcnow
from koban.probes.tlsinfo import cert_info, client_context


@dataclass(frozen=True, slots=True)
class TcpProbeConfig:
    host: str
    port: int
    send: bytes = b""
    expect: str | None = None  # regex searched in the reply (bytes decoded as latin-1)
    tls: bool = False
    verify_tls: bool = True
    ca_file: str | None = None
    server_name: str | None = None
    timeout: float = 10.0
    ip_protocol: str = "ip4"
    ip_fallback: bool = True
    read_limit: int = 64 * 1024
    conditions: Conditions | None = None


@dataclass(frozen=True, slots=True)
class TlsProbeConfig:
    host: str
    port: int = 443
    server_name: str | None = None
    verify_tls: bool = True
    ca_file: str | None = None
    timeout: float = 10.0
    min_valid: float = 14 * 86400.0  # seconds the earliest certificate must still be valid
    ip_protocol: str = "ip4"


class _Collector(asyncio.Protocol):
    """Buffers the reply; ``ready`` resolves once ``expect`` matches, the limit is hit, or EOF."""

    def __init__(self, expect: re.Pattern[str] | None, limit: int) -> None:
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.data = bytearray()
        self._expect, self._limit = expect, limit

    def data_received(self, data: bytes) -> None:
        self.data += data
        if self.ready.done():
            return
        if self._expect is not None and self._expect.search(self.data.decode("latin-1")):
            self.ready.set_result(True)
        elif len(self.data) >= self._limit:
            self.ready.set_result(False)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(False)


async def _connect(
    host: str,
    port: int,
    prefer: str,
    fallback: bool,
    tls: ssl.SSLContext | None,
    server_name: str,
    proto: _Collector,
    phases: Phases,
    where: list[str],
) -> tuple[asyncio.Transport, str, CertInfo | None]:
    resolved = await resolve(host, port, prefer, fallback)
    phases.resolve += resolved.seconds
    loop = asyncio.get_running_loop()
    where[0] = "connect"
    t = time.perf_counter_ns()
    try:
        transport, _ = await loop.create_connection(lambda: proto, resolved.ip, port)
    except OSError as exc:
        raise ProbeError(describe_os_error(exc, resolved.ip, port)) from None
    phases.connect += (time.perf_counter_ns() - t) / 1e9
    cert = None
    if tls is not None:
        where[0] = "tls"
        t = time.perf_counter_ns()
        try:
            upgraded = await loop.start_tls(transport, proto, tls, server_hostname=server_name)
        except BaseException:
            transport.abort()
            raise
        if upgraded is None:
            raise ProbeError("connection closed during TLS handshake")
        transport = upgraded
        phases.tls += (time.perf_counter_ns() - t) / 1e9
        cert = cert_info(transport.get_extra_info("ssl_object"))
    return transport, resolved.ip, cert


def _tls_error(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    return str(exc)


async def probe_tcp(cfg: TcpProbeConfig, ssl_context: ssl.SSLContext | None = None) -> ProbeResult:
    started_at, t0 = utcnow(), time.perf_counter_ns()
    phases, where = Phases(), ["resolve"]
    expect = re.compile(cfg.expect) if cfg.expect is not None else None
    proto = _Collector(expect, cfg.read_limit)
    ctx = (ssl_context or client_context(cfg.verify_tls, cfg.ca_file)) if cfg.tls else None
    ip, cert, error, connected = "", None, "", False
    try:
        async with asyncio.timeout(cfg.timeout):
            transport, ip, cert = await _connect(
                cfg.host,
                cfg.port,
                cfg.ip_protocol,
                cfg.ip_fallback,
                ctx,
                cfg.server_name or cfg.host,
                proto,
                phases,
                where,
            )
            connected = True
            try:
                where[0] = "processing"
                t = time.perf_counter_ns()
                if cfg.send:
                    transport.write(cfg.send)
                if expect is not None and not await proto.ready:
                    got = bytes(proto.data[:60])
                    error = f"reply did not match {cfg.expect!r} (got {got!r})"
                phases.processing += (time.perf_counter_ns() - t) / 1e9
            finally:
                transport.abort()
    except TimeoutError:
        error = f"timed out after {cfg.timeout:g}s during {where[0]}"
        if where[0] == "processing" and expect is not None:
            error += f" waiting for {cfg.expect!r}"
    except (ProbeError, ssl.SSLError) as exc:
        error = _tls_error(exc)
    except OSError as exc:
        error = f"{where[0]} failed: {exc.strerror or exc}"
    result = ProbeResult(
        kind="tcp",
        target=f"{cfg.host}:{cfg.port}",
        success=not error,
        started_at=started_at,
        duration=(time.perf_counter_ns() - t0) / 1e9,
        error=error,
        phases=phases,
        body=bytes(proto.data[: cfg.read_limit]),
        body_length=len(proto.data),
        ip=ip,
        cert=cert,
        connected=connected,
    )
    return apply_conditions(result, cfg.conditions) if cfg.conditions is not None else result


async def probe_tls(cfg: TlsProbeConfig, ssl_context: ssl.SSLContext | None = None) -> ProbeResult:
    """Handshake only; fails when the earliest presented certificate expires within ``min_valid``."""
    tcp = TcpProbeConfig(
        cfg.host,
        cfg.port,
        tls=True,
        verify_tls=cfg.verify_tls,
        ca_file=cfg.ca_file,
        server_name=cfg.server_name,
        timeout=cfg.timeout,
        ip_protocol=cfg.ip_protocol,
    )
    result = await probe_tcp(tcp, ssl_context)
    kind = {"kind": "tls"}
    if not result.success:
        return _with(result, **kind)
    if result.cert is None:
        return _with(result, success=False, error="the server presented no certificate", **kind)
    deadline = result.started_at + timedelta(seconds=cfg.min_valid)
    earliest = result.cert.earliest_expiry
    if earliest <= deadline:
        left = (earliest - result.started_at).total_seconds()
        state = f"expires in {left / 86400:.1f} days" if left > 0 else "has expired"
        which = "leaf certificate" if earliest == result.cert.leaf_expiry else "a certificate in the chain"
        return _with(
            result,
            success=False,
            error=(
                f"{which} for {cfg.server_name or cfg.host} {state} ({earliest:%Y-%m-%d %H:%M} UTC); "
                f"required: valid for {cfg.min_valid / 86400:g} more days"
            ),
            **kind,
        )
    return _with(result, **kind)


def _with(result: ProbeResult, **changes: object) -> ProbeResult:
    return replace(result, **changes)  # type: ignore[arg-type]
