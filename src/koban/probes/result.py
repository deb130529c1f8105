"""What one probe attempt produced: the shape every prober returns and every consumer reads.

One dataclass for all probe kinds (HTTP, TCP, TLS, DNS) so the scheduler, the rules, the rollups and
the Prometheus exposition need no per-kind branches; fields a kind does not fill stay at their zero value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# blackbox_exporter always emits these five labels, zero-filled, summed over redirects (semantics §3.5).
PHASES: tuple[str, ...] = ("resolve", "connect", "tls", "processing", "transfer")


@dataclass(slots=True)
class Phases:
    """Seconds spent in each blackbox phase, summed over all redirect hops.

    resolve:    DNS lookup (0 when the target is an IP literal).
    connect:    TCP connect (HTTPS); for plain HTTP until the connection is usable, which is the same thing.
    tls:        TLS handshake (HTTPS only).
    processing: connection ready -> first response byte (request write + server think time).
    transfer:   first response byte -> body fully read.
    """

    resolve: float = 0.0
    connect: float = 0.0
    tls: float = 0.0
    processing: float = 0.0
    transfer: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {p: getattr(self, p) for p in PHASES}


@dataclass(frozen=True, slots=True)
class CertInfo:
    """The peer's certificates as presented (not as verified): leaf expiry and the chain's earliest.

    ``earliest_expiry`` is blackbox's ``probe_ssl_earliest_cert_expiry`` (min NotAfter over the presented
    chain, intermediates included); ``leaf_expiry`` is what Gatus' ``[CERTIFICATE_EXPIRATION]`` uses.
    """

    leaf_expiry: datetime
    earliest_expiry: datetime
    subject: str = ""
    issuer: str = ""
    chain_length: int = 1
    tls_version: str = ""

    def seconds_left(self, now: datetime) -> float:
        return (self.leaf_expiry - now).total_seconds()


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One condition's outcome, kept so a failure message can say which check failed and with what value."""

    condition: str
    success: bool
    actual: str = ""
    error: str = ""

    def describe(self) -> str:
        if self.success:
            return f"{self.condition} (ok)"
        if self.error:
            return f"{self.condition} ({self.error})"
        return f"{self.condition} (actual: {self.actual})"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One attempt. ``started_at`` is wall-clock UTC (for storage); durations come from a monotonic clock.

    ``attempt`` counts immediate re-checks (0 = the scheduled probe); ``final`` is False when the runner
    will re-check at once, so the state rules only look at final results.
    """

    kind: str
    target: str
    success: bool
    started_at: datetime
    duration: float
    error: str = ""
    phases: Phases = field(default_factory=Phases)
    status_code: int = 0
    http_version: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_length: int = 0
    redirects: int = 0
    ip: str = ""
    cert: CertInfo | None = None
    dns_rcode: str = ""
    dns_answers: tuple[str, ...] = ()
    connected: bool = False
    conditions: tuple[ConditionResult, ...] = ()
    monitor_id: str = ""
    location: str = ""
    attempt: int = 0
    final: bool = True

    @property
    def finished_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.duration)


def utcnow() -> datetime:
    """A standalone probe's own stamp. Under the Runner every result is restamped from the injected
    clock, so what is stored never depends on this."""
    return datetime.now(UTC)
