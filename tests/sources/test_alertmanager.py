from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from koban.domain.alerts import AlertAction, Severity
from koban.sources.alertmanager import AlertmanagerSource
from koban.sources.base import PayloadError
from koban.sources.registry import get_source
from tests.sources.conftest import load_sample, make_request

SOURCE = AlertmanagerSource()


def parse(body, settings=None, received_at=None):
    kwargs = {"received_at": received_at} if received_at else {}
    return SOURCE.parse(make_request(body, **kwargs), settings or {})


def test_real_firing_webhook_becomes_one_trigger_keyed_by_fingerprint_and_group():
    [event] = parse(load_sample("alertmanager-webhook-prometheus-firing.json")["body"])
    assert event.action is AlertAction.TRIGGER
    assert event.dedup_key == "bc242992feb57bdb"
    assert event.group_key == '{}:{alertname="ProbeFailed"}'
    assert event.severity is Severity.CRITICAL
    assert event.summary == "Probe of http://127.0.0.1:8090/health failing"
    assert event.source == "http://127.0.0.1:8090/health"
    assert event.ends_at is None  # Go zero time means "still firing"
    assert event.occurred_at == datetime(2026, 11, 22, 18, 38, 49, 547000, tzinfo=UTC)
    assert {"href": "http://vm:9093", "text": "Alertmanager"} in event.links
    assert event.details["truncatedAlerts"] == 0


def test_real_resolved_webhook_resolves_the_same_alert():
    firing = parse(load_sample("alertmanager-webhook-prometheus-firing.json")["body"])[0]
    [resolved] = parse(load_sample("alertmanager-webhook-prometheus-resolved.json")["body"])
    assert resolved.action is AlertAction.RESOLVE
    assert (resolved.dedup_key, resolved.group_key) == (firing.dedup_key, firing.group_key)
    assert resolved.ends_at == datetime(2026, 11, 22, 18, 38, 59, 547000, tzinfo=UTC)


@pytest.mark.parametrize(
    "name", ["alertmanager-webhook-manual-firing.json", "alertmanager-webhook-manual-resolved.json"]
)
def test_manual_samples_parse_with_their_service_label(name):
    [event] = parse(load_sample(name)["body"])
    assert event.labels["service"] == "checkout-api"
    assert event.summary == "Manual test alert"


def test_missing_fingerprint_falls_back_to_alertmanagers_own_label_hash():
    body = copy.deepcopy(load_sample("alertmanager-webhook-manual-firing.json")["body"])
    del body["alerts"][0]["fingerprint"]
    assert parse(body)[0].dedup_key == "a5753382e71a839a"


def test_severity_comes_from_a_configurable_label_and_unknown_values_use_the_default():
    body = copy.deepcopy(load_sample("alertmanager-webhook-manual-firing.json")["body"])
    body["alerts"][0]["labels"]["priority"] = "P3"
    assert parse(body, {"severity_label": "priority"})[0].severity is Severity.WARNING
    body["alerts"][0]["labels"]["severity"] = "spicy"
    assert parse(body, {"default_severity": "error"})[0].severity is Severity.ERROR


def test_summary_falls_back_to_description_then_alertname():
    body = copy.deepcopy(load_sample("alertmanager-webhook-manual-firing.json")["body"])
    del body["alerts"][0]["annotations"]["summary"]
    assert parse(body)[0].summary == "Posted by envcheck to /api/v2/alerts"
    body["alerts"][0]["annotations"] = {}
    assert parse(body)[0].summary == "EnvcheckManual"


def test_unknown_fields_from_newer_versions_are_ignored():
    body = copy.deepcopy(load_sample("alertmanager-webhook-manual-firing.json")["body"])
    body |= {"notification_reason": "first notification", "routeLabels": {"x": "y"}, "future": [1]}
    assert len(parse(body)) == 1


def test_long_group_keys_are_hashed_to_fit_a_column():
    body = copy.deepcopy(load_sample("alertmanager-webhook-manual-firing.json")["body"])
    body["groupKey"] = "{}/" + "x" * 500
    key = parse(body)[0].group_key
    assert key.startswith("am:") and len(key) < 64
    assert parse(body)[0].group_key == key


def test_missing_status_is_inferred_from_ends_at():
    body = copy.deepcopy(load_sample("alertmanager-webhook-manual-resolved.json")["body"])
    del body["alerts"][0]["status"]
    assert parse(body)[0].action is AlertAction.RESOLVE


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("alerts"), "alerts"),
        (lambda b: b["alerts"].append("nope"), "alerts[1]"),
        (lambda b: b["alerts"][0].pop("labels"), "alerts[0].labels"),
        (lambda b: b["alerts"][0]["labels"].update(team=3), "alerts[0].labels.team"),
        (lambda b: b["alerts"][0].update(startsAt="yesterday"), "alerts[0].startsAt"),
        (lambda b: b["alerts"][0].update(status="burning"), "alerts[0].status"),
    ],
)
def test_bad_payloads_name_the_field(mutate, field):
    body = copy.deepcopy(load_sample("alertmanager-webhook-manual-firing.json")["body"])
    mutate(body)
    with pytest.raises(PayloadError) as err:
        parse(body)
    assert err.value.field == field


def test_registry_finds_every_source_by_kind():
    assert get_source("alertmanager").kind == "alertmanager"
    with pytest.raises(KeyError, match="known: alertmanager"):
        get_source("nagios")
