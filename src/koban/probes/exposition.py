"""Prometheus text exposition of the latest result per monitor, in blackbox_exporter's metric names.

So dashboards and alert rules written for blackbox work unchanged against koban's ``/metrics``; the
only addition is a ``monitor`` label (blackbox has one target per scrape, we expose all at once).
All five ``phase`` labels are always present, zero-filled, as blackbox does.
"""

from __future__ import annotations

from collections.abc import Iterable

from koban.probes.result import PHASES, ProbeResult

_HELP = {
    "probe_success": ("gauge", "Displays whether or not the probe was a success"),
    "probe_duration_seconds": ("gauge", "Returns how long the probe took to complete in seconds"),
    "probe_http_duration_seconds": ("gauge", "Duration of http request by phase, summed over all redirects"),
    "probe_http_status_code": ("gauge", "Response HTTP status code"),
    "probe_http_redirects": ("gauge", "The number of redirects"),
    "probe_http_content_length": ("gauge", "Length of http content response"),
    "probe_ssl_earliest_cert_expiry": ("gauge", "Returns last SSL chain expiry in unixtime"),
    "probe_dns_lookup_time_seconds": ("gauge", "Returns the time taken for probe dns lookup in seconds"),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def exposition(latest: Iterable[ProbeResult]) -> str:
    """Text format 0.0.4; one sample per monitor (and location, when set) per metric family."""
    rows: dict[str, list[str]] = {name: [] for name in _HELP}
    for r in sorted(latest, key=lambda r: (r.monitor_id, r.location)):
        labels = f'monitor="{_escape(r.monitor_id)}"'
        if r.location:
            labels += f',location="{_escape(r.location)}"'
        rows["probe_success"].append(f"probe_success{{{labels}}} {int(r.success)}")
        rows["probe_duration_seconds"].append(f"probe_duration_seconds{{{labels}}} {_num(r.duration)}")
        rows["probe_dns_lookup_time_seconds"].append(
            f"probe_dns_lookup_time_seconds{{{labels}}} {_num(r.phases.resolve)}"
        )
        if r.kind == "http":
            for phase in PHASES:
                value = getattr(r.phases, phase)
                rows["probe_http_duration_seconds"].append(
                    f'probe_http_duration_seconds{{{labels},phase="{phase}"}} {_num(value)}'
                )
            rows["probe_http_status_code"].append(f"probe_http_status_code{{{labels}}} {r.status_code}")
            rows["probe_http_redirects"].append(f"probe_http_redirects{{{labels}}} {r.redirects}")
            rows["probe_http_content_length"].append(
                f"probe_http_content_length{{{labels}}} {_content_length(r)}"
            )
        if r.cert is not None:
            expiry = r.cert.earliest_expiry.timestamp()
            rows["probe_ssl_earliest_cert_expiry"].append(
                f"probe_ssl_earliest_cert_expiry{{{labels}}} {_num(expiry)}"
            )
    out: list[str] = []
    for name, samples in rows.items():
        if not samples:
            continue
        kind, text = _HELP[name]
        out.append(f"# HELP {name} {text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(samples)
    return "\n".join(out) + "\n" if out else ""


def _content_length(r: ProbeResult) -> int:
    # blackbox reports the Content-Length header, -1 when absent (chunked).
    try:
        return int(r.headers.get("content-length", "-1"))
    except ValueError:
        return -1
