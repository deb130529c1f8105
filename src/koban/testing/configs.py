"""Config files for the real peers, as plain data; pure functions so they are testable without binaries.

Shapes follow the minimal configs that worked on this machine (``docs/peers.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Duration = float | int | str

DEFAULT_BLACKBOX_MODULES: dict[str, Any] = {
    "http_2xx": {
        "prober": "http",
        "timeout": "5s",
        "http": {"preferred_ip_protocol": "ip4", "method": "GET"},
    },
}


def go_duration(value: Duration) -> str:
    """Seconds (int/float) to a Go duration string; strings pass through (``"1h"``)."""
    if isinstance(value, str):
        return value
    millis = round(value * 1000)
    if millis % 1000 == 0:
        return f"{millis // 1000}s"
    return f"{millis}ms"


def alertmanager_config(
    *,
    webhook_url: str | None,
    send_resolved: bool = True,
    group_by: Sequence[str] = ("alertname",),
    group_wait: Duration = 1,
    group_interval: Duration = 1,
    repeat_interval: Duration = "1h",
    resolve_timeout: Duration = "5m",
) -> dict[str, Any]:
    """Everything to one receiver; without ``webhook_url`` the receiver drops notifications (benches)."""
    receiver: dict[str, Any] = {"name": "recorder"}
    if webhook_url is not None:
        receiver["webhook_configs"] = [{"url": webhook_url, "send_resolved": send_resolved}]
    return {
        "global": {"resolve_timeout": go_duration(resolve_timeout)},
        "route": {
            "receiver": "recorder",
            "group_by": list(group_by),
            "group_wait": go_duration(group_wait),
            "group_interval": go_duration(group_interval),
            "repeat_interval": go_duration(repeat_interval),
        },
        "receivers": [receiver],
    }


@dataclass(frozen=True)
class AlertmanagerTarget:
    """Where Prometheus sends alerts: it POSTs to ``<url path>/api/v2/alerts``.

    ``url`` may point at a real Alertmanager or at koban (``http://127.0.0.1:8000`` or with a
    path prefix); ``bearer_token`` becomes an ``Authorization: Bearer`` header.
    """

    url: str
    bearer_token: str | None = None

    def config(self) -> dict[str, Any]:
        parts = urlsplit(self.url)
        entry: dict[str, Any] = {
            "scheme": parts.scheme or "http",
            "api_version": "v2",
            "static_configs": [{"targets": [parts.netloc]}],
        }
        if parts.path.rstrip("/"):
            entry["path_prefix"] = parts.path.rstrip("/")
        if self.bearer_token is not None:
            entry["authorization"] = {"type": "Bearer", "credentials": self.bearer_token}
        return entry


def blackbox_scrape_config(
    *,
    blackbox_address: str,
    targets: Sequence[str],
    module: str = "http_2xx",
    job_name: str = "blackbox_http",
) -> dict[str, Any]:
    """The standard relabelling: each target becomes ``?target=`` on blackbox's ``/probe``."""
    return {
        "job_name": job_name,
        "metrics_path": "/probe",
        "params": {"module": [module]},
        "static_configs": [{"targets": list(targets)}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": blackbox_address},
        ],
    }


def prometheus_config(
    *,
    scrape_interval: Duration = 1,
    evaluation_interval: Duration = 1,
    rule_files: Sequence[str] = (),
    alertmanagers: Sequence[str | AlertmanagerTarget] = (),
    scrape_configs: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    interval = go_duration(scrape_interval)
    return {
        "global": {
            "scrape_interval": interval,
            # Prometheus rejects a timeout longer than the interval (default timeout is 10s).
            "scrape_timeout": interval if _seconds(scrape_interval) < 10 else "10s",
            "evaluation_interval": go_duration(evaluation_interval),
        },
        "alerting": {
            "alertmanagers": [
                (t if isinstance(t, AlertmanagerTarget) else AlertmanagerTarget(t)).config()
                for t in alertmanagers
            ]
        },
        "rule_files": list(rule_files),
        "scrape_configs": [dict(c) for c in scrape_configs],
    }


def nginx_config(*, port: int, workdir: str, as_root: bool, worker_processes: int | str = 1) -> str:
    """Foreground nginx with every writable path in ``workdir``, so it never touches /var."""
    user = "user root;\n" if as_root else ""  # workers as nobody could not read a 0700 tmp dir
    # One worker: run it as the only process, so PR_SET_PDEATHSIG covers it; a master's workers
    # would outlive a SIGKILLed test runner.
    master = "master_process off;\n" if worker_processes == 1 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {workdir}/temp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}{master}daemon off;
worker_processes {worker_processes};
pid {workdir}/nginx.pid;
error_log {workdir}/nginx.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type text/plain;
{temp}
    server {{
        listen 127.0.0.1:{port};
        root {workdir}/www;
        location = /-/ready {{ return 200 "ready\\n"; }}
    }}
}}
"""


def _seconds(value: Duration) -> float:
    if not isinstance(value, str):
        return float(value)
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * units[suffix]
    raise ValueError(f"unsupported duration {value!r}")
