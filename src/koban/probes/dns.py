"""DNS probe: one query to a chosen server (not the system resolver), judged on rcode and answers.

Querying a configured server directly is the point: "does ns1 still serve the record" is a different
question from "does this host's resolver cache still have it". UDP first, TCP when truncated. The query
time is reported as the ``resolve`` phase, which is what ``probe_dns_lookup_time_seconds`` exposes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from koban.probes.conditions import Conditions, apply_conditions
from koban.probes.result import Phases, ProbeResult, utcnow


@dataclass(frozen=True, slots=True)
class DnsProbeConfig:
    name: str
    server: str  # IP address of the name server to ask
    port: int = 53
    query_type: str = "A"
    transport: str = "udp"  # "udp" (TCP fallback on truncation) or "tcp"
    timeout: float = 5.0
    expect_rcode: str = "NOERROR"
    expect_answers: tuple[str, ...] = ()  # each must be among the answers (case-insensitive, dot-less)
    conditions: Conditions | None = None

    def __post_init__(self) -> None:
        # Fail at config load, naming the bad value (dnspython's own message does not).
        try:
            dns.rdatatype.from_text(self.query_type)
        except dns.exception.DNSException:
            raise ValueError(f"unknown DNS query type {self.query_type!r}") from None
        try:
            dns.rcode.from_text(self.expect_rcode)
        except dns.exception.DNSException:
            raise ValueError(f"unknown DNS rcode {self.expect_rcode!r}") from None
        if self.transport not in ("udp", "tcp"):
            raise ValueError(f"DNS transport must be udp or tcp, got {self.transport!r}")


def _norm(text: str) -> str:
    return text.strip().rstrip(".").lower()


async def probe_dns(cfg: DnsProbeConfig) -> ProbeResult:
    started_at, t0 = utcnow(), time.perf_counter_ns()
    query = dns.message.make_query(cfg.name, cfg.query_type)
    rcode, error, connected = "", "", False
    answers: tuple[str, ...] = ()
    try:
        if cfg.transport == "tcp":
            response = await dns.asyncquery.tcp(query, cfg.server, timeout=cfg.timeout, port=cfg.port)
        else:
            response, _ = await dns.asyncquery.udp_with_fallback(
                query, cfg.server, timeout=cfg.timeout, port=cfg.port
            )
        connected = True
        rcode = dns.rcode.to_text(response.rcode())
        answers = tuple(
            rd.to_text()
            for rrset in response.answer
            if rrset.rdtype == query.question[0].rdtype
            for rd in rrset
        )
    except dns.exception.Timeout:
        error = f"no answer from {cfg.server}:{cfg.port} within {cfg.timeout:g}s"
    except (dns.exception.DNSException, OSError) as exc:
        error = f"query to {cfg.server}:{cfg.port} failed: {exc}"
    seconds = (time.perf_counter_ns() - t0) / 1e9
    if not error and rcode != cfg.expect_rcode.upper():
        error = f"rcode {rcode}, expected {cfg.expect_rcode.upper()}"
    if not error and cfg.expect_answers:
        have = {_norm(a) for a in answers}
        missing = [a for a in cfg.expect_answers if _norm(a) not in have]
        if missing:
            got = ", ".join(answers) or "none"
            error = f"{cfg.query_type} {cfg.name}: missing {', '.join(missing)} (answers: {got})"
    result = ProbeResult(
        kind="dns",
        target=f"{cfg.name} {cfg.query_type} @{cfg.server}",
        success=not error,
        started_at=started_at,
        duration=seconds,
        error=error,
        phases=Phases(resolve=seconds),
        body="\n".join(answers).encode(),
        body_length=len(answers),
        ip=cfg.server,
        dns_rcode=rcode,
        dns_answers=answers,
        connected=connected,
    )
    return apply_conditions(result, cfg.conditions) if cfg.conditions is not None else result
