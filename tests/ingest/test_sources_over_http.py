"""Every source over HTTP, with real payloads: firing opens an incident, the recovery resolves it.

Runs on both databases. The clock sits just after the captured Prometheus payloads were sent,
so their ``endsAt`` (firing: ahead; resolved: behind) mean what they meant then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from koban.core.clock import FakeClock
from koban.sources.registry import QUEUED_KINDS
from tests.ingest import support as s
from tests.support.system import running_system

SAMPLE_TIME = datetime.fromisoformat("2026-11-22T18:47:30+00:00").timestamp()


def _prometheus(which: str) -> Any:
    import json

    data = json.loads((s.SAMPLES / "prometheus-to-alertmanager-post.json").read_text())
    return data[which]["body"]


# kind -> (path, firing body, resolving body)
CASES: dict[str, tuple[str, Any, Any]] = {
    "alertmanager": (
        "/api/v1/ingest",
        s.sample("alertmanager-webhook-prometheus-firing.json"),
        s.sample("alertmanager-webhook-prometheus-resolved.json"),
    ),
    "prometheus": ("/api/v2/alerts", _prometheus("firing"), _prometheus("resolved")),
    "grafana": ("/api/v1/ingest", s.grafana_body("firing"), s.grafana_body("resolved")),
    "kibana": ("/api/v1/ingest", s.kibana_body(), s.kibana_body("recovered")),
    "zabbix": ("/api/v1/ingest", s.zabbix_body("1"), s.zabbix_body("0")),
    "pagerduty": ("/api/v1/ingest", s.pagerduty_body(), s.pagerduty_body("resolve")),
    "generic": ("/api/v1/ingest", s.generic_body(), s.generic_body(resolve=True)),
    "mapped": ("/api/v1/ingest", s.mapped_body(), s.mapped_body("ok")),
}


async def _incident(c: Any, incident_id: int) -> dict[str, Any]:
    r = await c.get(f"/api/v1/incidents/{incident_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def _only_incident(c: Any) -> dict[str, Any]:
    [incident] = (await c.get("/api/v1/incidents", params={"service": "web"})).json()["incidents"]
    return incident


@pytest.mark.parametrize("kind", list(CASES))
async def test_each_source_opens_an_incident_over_http_and_its_recovery_resolves_it(db_url, tmp_path, kind):
    path, firing, resolved = CASES[kind]
    clock = FakeClock(SAMPLE_TIME)
    async with running_system(db_url, s.edge_config(), tmp_path, clock=clock) as k, s.client(k) as c:
        r = await c.post(path, json=firing, headers=s.bearer(kind))
        assert r.status_code == 202, r.text
        queued = kind in QUEUED_KINDS
        if queued:
            # Committed to the inbox before the 202; the worker's drain makes the incident.
            assert r.json() == {"status": "accepted", "alerts": 1}
            assert await k.drain.drain_all() == 1
        else:
            [answered] = r.json()["incidents"]
            assert answered["incident_id"] and answered["status"] == "triggered"
        opened = await _only_incident(c)
        assert opened["status"] == "triggered"
        # The same delivery again (Alertmanager repeats groups) lands on the same incident.
        again = await c.post(path, json=firing, headers=s.bearer(kind))
        assert again.status_code == 202, again.text
        await k.drain.drain_all()
        assert (await _only_incident(c))["id"] == opened["id"]
        clock.advance(5)
        r = await c.post(path, json=resolved, headers=s.bearer(kind))
        assert r.status_code == 202, r.text
        await k.drain.drain_all()
        assert (await _incident(c, opened["id"]))["status"] == "resolved"
        assert (await _only_incident(c))["id"] == opened["id"]


async def test_the_key_in_the_path_works_for_every_source_type(db_url, tmp_path):
    async with (
        running_system(db_url, s.edge_config(), tmp_path, clock=FakeClock(SAMPLE_TIME)) as k,
        s.client(k) as c,
    ):
        for kind, (_, firing, _) in CASES.items():
            r = await c.post(f"/api/v1/ingest/{s.key_for(kind)}", json=firing)
            assert r.status_code == 202, (kind, r.text)
        # Prometheus' path_prefix: it appends /api/v2/alerts to whatever prefix it is given.
        r = await c.post(
            f"/api/v1/ingest/{s.key_for('prometheus')}/api/v2/alerts", json=_prometheus("firing")
        )
        assert r.status_code == 202 and r.json()["alerts"] == 1


def _relayed(firing: bool) -> Any:
    """Alertmanager's webhook for the same alert as ``_prometheus``: what it relays of that POST."""
    import copy

    direct = _prometheus("firing" if firing else "resolved")[0]
    body = copy.deepcopy(
        s.sample(f"alertmanager-webhook-prometheus-{'firing' if firing else 'resolved'}.json")
    )
    [alert] = body["alerts"]
    alert.update(labels=direct["labels"], startsAt=direct["startsAt"])
    alert.pop("fingerprint")  # Alertmanager's own is the label hash: koban computes the same
    if not firing:
        alert["endsAt"] = direct["endsAt"]
    return body


@pytest.mark.parametrize("first", ["prometheus", "alertmanager"])
async def test_the_same_alert_straight_from_prometheus_and_relayed_by_alertmanager_is_one_incident(
    db_url, tmp_path, first
):
    clock = FakeClock(SAMPLE_TIME)
    sends = {
        "prometheus": ("/api/v2/alerts", _prometheus("firing"), _prometheus("resolved")),
        "alertmanager": ("/api/v1/ingest", _relayed(True), _relayed(False)),
    }
    order = [first, *(kind for kind in sends if kind != first)]
    async with running_system(db_url, s.edge_config(), tmp_path, clock=clock) as k, s.client(k) as c:
        for kind in order:
            path, firing, _ = sends[kind]
            assert (await c.post(path, json=firing, headers=s.bearer(kind))).status_code == 202
            await k.drain.drain_all()
        opened = await _only_incident(c)
        clock.advance(5)
        for kind in order:
            path, _, resolved = sends[kind]
            assert (await c.post(path, json=resolved, headers=s.bearer(kind))).status_code == 202
            await k.drain.drain_all()
        assert (await _only_incident(c))["id"] == opened["id"]
        assert (await _incident(c, opened["id"]))["status"] == "resolved"
