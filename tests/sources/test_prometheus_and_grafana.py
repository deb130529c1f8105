from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from koban.domain.alerts import AlertAction
from koban.sources.base import PayloadError
from koban.sources.grafana import GrafanaSource
from koban.sources.prometheus import PrometheusSource
from tests.sources.conftest import load_sample, make_request

PROM = PrometheusSource()
SAMPLE = load_sample("prometheus-to-alertmanager-post.json")
DURING = datetime(2026, 11, 22, 18, 48, tzinfo=UTC)


def test_what_prometheus_posts_while_firing_is_a_trigger_that_expires_at_ends_at():
    [event] = PROM.parse(make_request(SAMPLE["firing"]["body"], DURING), {})
    assert event.action is AlertAction.TRIGGER
    assert event.ends_at == datetime(2026, 11, 22, 18, 51, 1, 547000, tzinfo=UTC)
    assert event.summary == "Probe of http://127.0.0.1:8090/health failing"


def test_prometheus_and_alertmanager_paths_dedup_to_the_same_key():
    [direct] = PROM.parse(make_request(SAMPLE["firing"]["body"], DURING), {})
    relayed = load_sample("alertmanager-webhook-prometheus-firing.json")["body"]["alerts"][0]
    assert direct.dedup_key == relayed["fingerprint"]


def test_ends_at_in_the_past_resolves():
    [event] = PROM.parse(make_request(SAMPLE["resolved"]["body"], DURING), {})
    assert event.action is AlertAction.RESOLVE


def test_missing_ends_at_fires_until_now_plus_resolve_timeout():
    body = [{"labels": {"alertname": "DiskFull"}}]
    [event] = PROM.parse(make_request(body, DURING), {})
    assert event.ends_at == DURING + timedelta(minutes=5)
    [event] = PROM.parse(make_request(body, DURING), {"resolve_timeout": 60})
    assert event.ends_at == DURING + timedelta(minutes=1)


def test_fingerprint_ignores_label_order_and_annotations():
    a = PROM.parse(make_request([{"labels": {"a": "1", "b": "2"}, "annotations": {"x": "1"}}], DURING), {})
    b = PROM.parse(make_request([{"labels": {"b": "2", "a": "1"}}], DURING), {})
    assert a[0].dedup_key == b[0].dedup_key


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"labels": {}}, ""),
        (
            [{"labels": {"a": "b"}}, {"labels": {"a": "b"}}, {"labels": {"a": "b"}}, {"annotations": {}}],
            "[3].labels",
        ),
        ([{"labels": {}}], "[0].labels"),
        ([{"labels": {"a": 1}}], "[0].labels.a"),
        (
            [{"labels": {"a": "b"}, "endsAt": "2020-01-01T00:00:00Z", "startsAt": "2021-01-01T00:00:00Z"}],
            "[0].endsAt",
        ),
        ([5], "[0]"),
    ],
)
def test_bad_prometheus_payloads_name_index_and_field(body, field):
    with pytest.raises(PayloadError) as err:
        PROM.parse(make_request(body, DURING), {})
    assert (err.value.field or "") == field


def grafana_body():
    body = copy.deepcopy(load_sample("alertmanager-webhook-prometheus-firing.json")["body"])
    body.update(version="1", orgId=1, state="alerting", title="[FIRING:1] ProbeFailed", message="**Firing**")
    body["alerts"][0].update(
        silenceURL="https://grafana/alerting/silence/new",
        dashboardURL="",
        panelURL="https://grafana/d/x?viewPanel=2",
        values={"B": 44.2},
        valueString="[ var='B' value=44.2 ]",
    )
    return body


def test_grafana_body_parses_like_alertmanager_with_its_extra_links_and_values():
    [event] = GrafanaSource().parse(make_request(grafana_body()), {})
    assert event.dedup_key == "bc242992feb57bdb"
    assert event.details["values"] == {"B": 44.2}
    assert event.details["title"] == "[FIRING:1] ProbeFailed"
    texts = {link["text"] for link in event.links}
    assert {"silenceURL", "panelURL", "Grafana"} <= texts and "dashboardURL" not in texts


def test_grafana_rejects_unknown_state_and_legacy_bodies():
    body = grafana_body() | {"state": "no_data"}
    with pytest.raises(PayloadError) as err:
        GrafanaSource().parse(make_request(body), {})
    assert err.value.field == "state"
    with pytest.raises(PayloadError, match="legacy"):
        GrafanaSource().parse(make_request({"ruleId": 1, "evalMatches": []}), {})
