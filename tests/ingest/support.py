"""One service with an integration of every source type, each with its own key, and an ASGI client."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx

from koban.bootstrap.app import create_app
from koban.catalog.snapshot import hash_key
from koban.config.model import ConfigFile
from tests.support.admin import AdminToken
from tests.support.factories import make_config

SAMPLES = Path("/work/shared/samples")
LOCAL_SAMPLES = Path(__file__).parents[1] / "sources" / "samples"
TYPES = ("alertmanager", "prometheus", "grafana", "kibana", "zabbix", "pagerduty", "generic", "mapped")
MAPPING = {
    "items": "events",
    "dedup_key": "item.check ~ '@' ~ item.host",
    "severity": "'critical' if item.level == 'crit' else 'warning'",
    "summary": "item.check ~ ' failing on ' ~ item.host",
    "resolve": "item.state == 'ok'",
}


def key_for(kind: str) -> str:
    return f"key-{kind}-0123456789"


def integration(kind: str, **extra: Any) -> dict[str, Any]:
    settings = {"mapping": MAPPING} if kind == "mapped" else {}
    return {
        "id": f"in-{kind}",
        "type": "generic" if kind == "mapped" else kind,
        "key_hashes": [hash_key(key_for(kind))],
        "settings": settings,
        **extra,
    }


def edge_config(**per_integration: Any) -> ConfigFile:
    """``per_integration`` fields (``limits=...``) go on every integration."""
    return make_config(integrations=[integration(kind, **per_integration) for kind in TYPES])


def client(k: Any) -> httpx.AsyncClient:
    app = create_app(k, manage_system=False)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://koban.test", auth=AdminToken(k)
    )


def bearer(kind: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key_for(kind)}"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def sample(name: str) -> Any:
    """A payload captured from the real peers (``body`` of the recorded request, when recorded so)."""
    path = SAMPLES / name if (SAMPLES / name).exists() else LOCAL_SAMPLES / name
    data = json.loads(path.read_text())
    return data["body"] if isinstance(data, dict) and "body" in data else data


def grafana_body(status: str = "firing") -> dict[str, Any]:
    """Grafana unified alerting's webhook body (protocols.md §6)."""
    firing = status == "firing"
    return {
        "receiver": "koban", "status": status, "orgId": 1, "version": "1",
        "state": "alerting" if firing else "ok",
        "groupKey": '{}:{alertname="High memory usage"}', "truncatedAlerts": 0,
        "title": f"[{status.upper()}:1] High memory usage (blue)", "message": "**Firing**",
        "groupLabels": {"alertname": "High memory usage"},
        "commonLabels": {"alertname": "High memory usage", "team": "blue"},
        "commonAnnotations": {"summary": "memory above 90%"},
        "externalURL": "https://grafana.example/",
        "alerts": [{
            "status": status,
            "labels": {"alertname": "High memory usage", "team": "blue", "severity": "critical"},
            "annotations": {"summary": "memory above 90%"},
            "startsAt": "2027-01-15T08:00:00+02:00",
            "endsAt": "0001-01-01T00:00:00Z" if firing else "2027-01-15T08:10:00+02:00",
            "generatorURL": "https://grafana.example/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://grafana.example/alerting/silence/new",
            "dashboardURL": "", "panelURL": "", "values": {"B": 44.2, "C": 1},
            "valueString": "[ var='B' labels={} value=44.2 ]",
        }],
    }  # fmt: skip


def kibana_body(action_group: str = "query matched") -> dict[str, Any]:
    """What docs/integrations/kibana.md has Kibana's webhook connector render."""
    return {
        "rule_id": "5a3c", "rule_name": "Errors in checkout", "rule_url": "https://kibana/app/rules/5a3c",
        "space_id": "default", "tags": "team:payments,prod", "alert_id": "checkout-api",
        "alert_uuid": "9f1e", "action_group": action_group, "severity": "error",
        "title": "Errors in checkout: checkout-api", "message": "42 errors in 5m",
        "date": "2027-01-15T06:00:00.000Z",
    }  # fmt: skip


def zabbix_body(event_value: str = "1") -> dict[str, Any]:
    """What the shipped Zabbix media type posts (all strings)."""
    return {
        "event_id": "4711", "recovery_event_id": "4800" if event_value == "0" else "{EVENT.RECOVERY.ID}",
        "event_value": event_value, "update_status": "0", "event_source": "0", "severity": "5",
        "severity_name": "Disaster", "subject": "Problem: web-1 unreachable", "message": "ping loss 100%",
        "host": "web-1", "trigger_id": "13560", "tags": "[]", "ack": "No",
    }  # fmt: skip


def pagerduty_body(action: str = "trigger", dedup_key: str | None = "db-1/disk") -> dict[str, Any]:
    body: dict[str, Any] = {"routing_key": key_for("pagerduty"), "event_action": action}
    if dedup_key:
        body["dedup_key"] = dedup_key
    if action == "trigger":
        body["payload"] = {"summary": "disk full on db-1", "source": "db-1", "severity": "critical"}
    return body


def mapped_body(state: str = "alarm") -> dict[str, Any]:
    return {"events": [{"check": "http", "host": "web-2", "level": "crit", "state": state}]}


def generic_body(resolve: bool = False) -> dict[str, Any]:
    body = {"summary": "queue backlog", "dedup_key": "queue", "severity": "warning"}
    return body | ({"action": "resolve"} if resolve else {})
