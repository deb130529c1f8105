from __future__ import annotations

import json

import pytest

from koban.domain.alerts import AlertAction, Severity
from koban.sources.base import PayloadError
from koban.sources.zabbix import ZabbixSource
from tests.sources.conftest import make_request

SOURCE = ZabbixSource()


def make_zabbix(**overrides):
    """What the shipped media type posts for a problem (all strings, as Zabbix sends them)."""
    body = {
        "event_id": "4711", "recovery_event_id": "{EVENT.RECOVERY.ID}", "event_value": "1",
        "update_status": "0", "event_source": "0", "severity": "4", "severity_name": "High",
        "subject": "Problem: High CPU on web-1", "message": "CPU > 90%", "host": "web-1",
        "trigger_id": "13560", "tags": json.dumps([{"tag": "scope", "value": "performance"}]),
        "ack": "No", "zabbix_url": "https://zabbix.example",
    }  # fmt: skip
    body.update(overrides)
    return body


def parse(body):
    return SOURCE.parse(make_request(body), {})


def test_problem_triggers_keyed_by_event_id_with_mapped_severity_tags_and_link():
    [event] = parse(make_zabbix())
    assert (event.action, event.dedup_key, event.severity) == (AlertAction.TRIGGER, "4711", Severity.ERROR)
    assert event.labels == {"scope": "performance", "host": "web-1"}
    assert event.links[0]["href"] == "https://zabbix.example/tr_events.php?triggerid=13560&eventid=4711"
    assert "recovery_event_id" not in event.details  # unresolved macro = missing


def test_recovery_resolves_the_same_problem():
    [event] = parse(make_zabbix(event_value="0", recovery_event_id="4800"))
    assert (event.action, event.dedup_key) == (AlertAction.RESOLVE, "4711")


def test_update_with_ack_acknowledges_and_other_updates_do_nothing():
    assert parse(make_zabbix(update_status="1", ack="Yes"))[0].action is AlertAction.ACKNOWLEDGE
    assert parse(make_zabbix(update_status="1", ack="No")) == []


@pytest.mark.parametrize(
    ("nseverity", "expected"),
    [("0", Severity.INFO), ("1", Severity.INFO), ("2", Severity.WARNING),
     ("3", Severity.WARNING), ("4", Severity.ERROR), ("5", Severity.CRITICAL)],
)  # fmt: skip
def test_zabbix_severities_map_like_the_stock_pagerduty_media_type(nseverity, expected):
    assert parse(make_zabbix(severity=nseverity))[0].severity is expected


def test_severity_name_is_used_when_the_number_is_an_unresolved_macro():
    assert (
        parse(make_zabbix(severity="{EVENT.NSEVERITY}", severity_name="Disaster"))[0].severity
        is Severity.CRITICAL
    )


def test_unresolved_event_id_is_rejected_naming_the_field():
    with pytest.raises(PayloadError) as err:
        parse(make_zabbix(event_id="{EVENT.ID}"))
    assert err.value.field == "event_id"


def test_unresolved_tags_macro_means_no_tags():
    assert parse(make_zabbix(tags="{EVENT.TAGSJSON}"))[0].labels == {"host": "web-1"}
