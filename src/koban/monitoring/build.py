"""From a configured monitor to what ``koban.probes`` runs (a probe callable) and judges (a Rule). Pure.

Probe configs and conditions are built once per monitor definition, not per probe, so the hot loop
only awaits ``spec()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from koban.config.model_monitors import Monitor
from koban.probes.conditions import Conditions
from koban.probes.dns import DnsProbeConfig, probe_dns
from koban.probes.http import HttpProbeConfig, probe_http
from koban.probes.result import ProbeResult
from koban.probes.rules import Rule
from koban.probes.runner import Monitor as Scheduled
from koban.probes.tcp import TcpProbeConfig, TlsProbeConfig, probe_tcp, probe_tls

ProbeCall = Callable[[], Awaitable[ProbeResult]]


def probe_call(mon: Monitor) -> ProbeCall:
    conditions = Conditions.parse(mon.conditions) if mon.conditions else None
    if mon.type == "http":
        return partial(
            probe_http,
            HttpProbeConfig(
                mon.target,
                method=mon.method.upper(),
                headers=dict(mon.headers),
                body=mon.body.encode(),
                follow_redirects=mon.follow_redirects,
                max_redirects=mon.max_redirects,
                verify_tls=mon.verify_tls,
                ca_file=mon.ca_file,
                timeout=mon.timeout,
                conditions=conditions,
            ),
        )
    if mon.type == "dns":
        return partial(
            probe_dns,
            DnsProbeConfig(
                mon.target,
                mon.server,
                port=mon.dns_port,
                query_type=mon.query_type,
                timeout=mon.timeout,
                expect_answers=tuple(mon.expect_answers),
                conditions=conditions,
            ),
        )
    host, port = mon.host_port()
    if mon.type == "tls":
        cfg = TlsProbeConfig(
            host,
            port,
            verify_tls=mon.verify_tls,
            ca_file=mon.ca_file,
            timeout=mon.timeout,
            min_valid=mon.cert_min_valid,
        )
        return partial(probe_tls, cfg)
    return partial(
        probe_tcp,
        TcpProbeConfig(
            host,
            port,
            send=mon.send.encode(),
            expect=mon.expect,
            timeout=mon.timeout,
            verify_tls=mon.verify_tls,
            ca_file=mon.ca_file,
            conditions=conditions,
        ),
    )


def scheduled(mon: Monitor, location: str) -> Scheduled:
    """The runner's view: ``spec`` is the ready-made probe call (see ``run_spec``)."""
    return Scheduled(mon.id, mon.interval, location, mon.confirmations, probe_call(mon))


async def run_spec(monitor: Scheduled) -> ProbeResult:
    """The runner's probe function for monitors made by ``scheduled``."""
    result: ProbeResult = await monitor.spec()
    return result


def rule(mon: Monitor) -> Rule:
    r = mon.rules
    return Rule(
        monitor_id=mon.id,
        service=mon.service,
        name=mon.name,
        down_for=r.down_for,
        slow_ms=r.slower_than * 1000 if r.slower_than is not None else None,
        slow_for=r.slow_for,
        min_failed_locations=r.locations_down,
        stale_after=mon.stale_after(),
        severity=mon.severity,
        slow_severity=mon.slow_severity,
    )
