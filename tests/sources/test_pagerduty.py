from __future__ import annotations

import pytest

from koban.domain.alerts import AlertAction, Severity
from koban.sources.pagerduty import PagerDutyEventError, PagerDutySource, accepted_body, invalid_body
from tests.sources.conftest import make_request

SOURCE = PagerDutySource()
KEY = "R" * 32


def make_trigger(**payload):
    body = {
        "routing_key": KEY,
        "event_action": "trigger",
        "payload": {"summary": "DB down", "source": "db-1", "severity": "error"} | payload,
    }
    return body


def parse(body):
    return SOURCE.parse(make_request(body), {})


def test_trigger_with_dedup_key_maps_fields():
    body = make_trigger(component="postgres", custom_details={"lag": 5}) | {
        "dedup_key": "db-1/down",
        "links": [{"href": "https://grafana/d/1", "text": "Dashboard"}],
        "client": "Zabbix",
        "client_url": "https://zabbix",
    }
    [event] = parse(body)
    assert (event.dedup_key, event.action, event.severity) == (
        "db-1/down",
        AlertAction.TRIGGER,
        Severity.ERROR,
    )
    assert event.labels == {"component": "postgres"}
    assert event.details["custom_details"] == {"lag": 5}
    assert {"href": "https://zabbix", "text": "Zabbix"} in event.links


def test_trigger_without_dedup_key_gets_a_uuid_that_a_retry_reproduces():
    first = parse(make_trigger())[0].dedup_key
    assert len(first) == 36 and first.count("-") == 4
    assert parse(make_trigger())[0].dedup_key == first
    assert parse(make_trigger(summary="other"))[0].dedup_key != first


def test_acknowledge_and_resolve_need_only_the_dedup_key():
    for action in ("acknowledge", "resolve"):
        [event] = parse({"routing_key": KEY, "event_action": action, "dedup_key": "k"})
        assert event.action is AlertAction(action)


def test_invalid_trigger_lists_every_error_like_pagerduty():
    body = {"routing_key": KEY, "event_action": "trigger", "payload": {"summary": "", "severity": "sev1"}}
    with pytest.raises(PagerDutyEventError) as err:
        parse(body)
    assert err.value.status == 400
    assert err.value.errors == [
        "'payload.summary' is missing or blank",
        "'payload.source' is missing or blank",
        "'payload.severity' is invalid (must be critical, error, warning or info)",
    ]
    assert err.value.field == "payload.summary"
    assert err.value.as_dict() == invalid_body(err.value.errors)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"event_action": "resolve"}, "'dedup_key' is missing or blank"),
        ({"event_action": "page", "dedup_key": "k"}, "'event_action' is invalid (must be "
         "trigger, acknowledge or resolve)"),
        ({"event_action": "trigger"}, "'payload' is missing or blank"),
        ({"event_action": "resolve", "dedup_key": "k" * 256}, "Length of 'dedup_key' is incorrect (should be "
         "at most 255 characters)"),
    ],
)  # fmt: skip
def test_other_invalid_events(body, error):
    with pytest.raises(PagerDutyEventError) as err:
        parse({"routing_key": KEY} | body)
    assert err.value.errors == [error]


def test_long_summary_is_truncated_not_rejected():
    assert len(parse(make_trigger(summary="x" * 2000))[0].summary) == 1024


def test_response_bodies_have_pagerdutys_shape():
    assert accepted_body("abc") == {"status": "success", "message": "Event processed", "dedup_key": "abc"}
    assert invalid_body(["x"]) == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["x"],
    }
