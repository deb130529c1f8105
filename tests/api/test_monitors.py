"""Monitors through the YAML model and the REST API; /metrics in blackbox's names; slow and closed
targets judged and paged; history for graphs over the API. Both databases."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from koban.config.model import ConfigFile
from koban.config.references import check_references
from koban.core.clock import SystemClock
from tests.monitoring.support import api, config_with, http_monitor, running_prober, until
from tests.support.factories import make_config
from tests.support.servers import HttpServer
from tests.support.system import running_system


def _cfg(**monitor) -> ConfigFile:
    return ConfigFile.model_validate(
        {
            "services": [{"id": "web"}],
            "monitors": [{"id": "m", "service": "web", "target": "http://x/", **monitor}],
        }
    )


@pytest.mark.parametrize(
    ("monitor", "message"),
    [
        ({"interval": "500ms"}, "between 1s and 1d"),
        ({"interval": "2d"}, "between 1s and 1d"),
        ({"conditions": ["[STATUS] = 200"]}, "column 10"),
        ({"type": "tcp", "target": "db.example"}, "host:port"),
        ({"target": "ftp://x/"}, "http:// or https://"),
        ({"locations": ["a"], "rules": {"locations_down": 2}}, "cannot exceed"),
    ],
)
def test_bad_monitors_are_refused_with_a_reason(monitor, message):
    with pytest.raises(ValidationError, match=message):
        _cfg(**monitor)


def test_monitor_defaults_and_unknown_service_is_a_reference_problem():
    mon = _cfg(interval="30s", conditions=["[STATUS] == 200", "[BODY].status == UP"]).monitors[0]
    assert (mon.interval, mon.locations, mon.severity, mon.confirmations) == (30.0, ["local"], "critical", 0)
    bad = ConfigFile.model_validate({"monitors": [{"id": "m", "service": "nope", "target": "http://x/"}]})
    assert check_references(bad) == [(("monitors", 0, "service"), "unknown service 'nope'")]


async def test_monitor_crud_over_the_api_survives_edits_of_other_objects(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, api(k) as c:
        body = http_monitor("http://127.0.0.1:9/", ident="shop", interval="1m")
        assert (await c.put("/api/v1/monitors/shop", json=body)).status_code == 200
        bad = await c.put("/api/v1/monitors/bad", json={**body, "id": "bad", "service": "nope"})
        assert bad.status_code == 422 and "unknown service" in bad.text
        # Editing a person applies the whole config again: the monitor must still be there.
        person = (await c.get("/api/v1/people/alice")).json()
        assert (await c.put("/api/v1/people/alice", json={**person, "name": "Alice A."})).status_code == 200
        listed = (await c.get("/api/v1/monitors")).json()
        assert listed["total"] == 1 and listed["monitors"][0]["status"] == "unknown"
        assert listed["monitors"][0]["interval"] == 60.0
        assert (await c.delete("/api/v1/monitors/shop")).status_code == 200
        assert (await c.get("/api/v1/monitors/shop")).status_code == 404


async def test_metrics_expose_latest_result_in_blackbox_names_with_tls_expiry(
    db_url, tmp_path, http_server, tls_server, ca_file
):
    cfg = config_with(
        http_monitor(f"{http_server.base}/ok", ident="plain"),
        http_monitor(f"{tls_server.base}/ok", ident="secure", ca_file=ca_file),
    )
    async with (
        running_system(db_url, cfg, tmp_path, clock=SystemClock()) as k,
        running_prober(k),
        api(k) as c,
    ):

        async def metrics() -> str | None:
            text = (await c.get("/metrics")).text
            want = [f'probe_success{{monitor="{m}",location="local"}} 1' for m in ("plain", "secure")]
            return text if all(w in text for w in want) else None

        text = await until(metrics, "both monitors in /metrics")
        assert 'probe_http_status_code{monitor="plain",location="local"} 200' in text
        for phase in ("resolve", "connect", "tls", "processing", "transfer"):
            assert f'probe_http_duration_seconds{{monitor="secure",location="local",phase="{phase}"}}' in text
        assert 'probe_ssl_earliest_cert_expiry{monitor="secure",location="local"}' in text
        assert 'probe_ssl_earliest_cert_expiry{monitor="plain"' not in text
        assert "probe_duration_seconds{" in text

        async def graph() -> list | None:
            body = (await c.get("/api/v1/monitors/plain/results", params={"since": "1h"})).json()
            return body["points"] if body["step"] == "minute" and body["points"] else None

        points = await until(graph, "a minute rollup")
        assert points[0]["failures"] == 0 and points[0]["seconds"]["connect"]["max"] > 0


async def test_slow_endpoint_pages_at_slow_severity_and_closed_port_pages_critical(
    db_url, tmp_path, http_server, closed_port
):
    cfg = config_with(
        http_monitor(f"{http_server.base}/sluggish", ident="sluggish", rules={"slower_than": "100ms"}),
        {
            "id": "db-port",
            "service": "web",
            "type": "tcp",
            "target": f"127.0.0.1:{closed_port}",
            "interval": "1s",
        },
    )
    async with (
        running_system(db_url, cfg, tmp_path, clock=SystemClock()) as k,
        running_prober(k),
        api(k) as c,
    ):

        async def incidents() -> dict | None:
            items = (await c.get("/api/v1/incidents")).json()["incidents"]
            found = {i["key"]: i for i in items}
            return found if len(found) == 2 else None

        found = await until(incidents, "two incidents")
        assert found["monitor:sluggish"]["severity"] == "warning"
        assert "is slow" in found["monitor:sluggish"]["summary"]
        assert found["monitor:db-port"]["severity"] == "critical"
        assert "refused" in found["monitor:db-port"]["summary"]
        state = (await c.get("/api/v1/monitors/sluggish")).json()["state"]
        assert (state["status"], state["reason"]) == ("down", "slow")


async def test_target_back_on_same_port_after_restart(tmp_path):
    server = await HttpServer().start()
    port = server.port
    await server.stop()
    await server.start()
    assert server.port == port
    await server.stop()
