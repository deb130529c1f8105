from __future__ import annotations

import pytest

from koban.domain.alerts import AlertAction, Severity
from koban.sources.base import PayloadError
from koban.sources.generic import GenericSource
from koban.sources.generic_mapping import MappingConfigError
from koban.sources.kibana import KibanaSource
from tests.sources.conftest import make_request

KIBANA = KibanaSource()
GENERIC = GenericSource()


def make_kibana_rule(**overrides):
    """The body docs/integrations/kibana.md tells users to paste, as Kibana renders it."""
    return {
        "rule_id": "5a3c", "rule_name": "Errors in checkout", "rule_url": "https://kibana/app/rules/5a3c",
        "space_id": "default", "tags": "team:payments,prod", "alert_id": "checkout-api",
        "alert_uuid": "9f1e", "action_group": "query matched", "severity": "error",
        "title": "Errors in checkout: checkout-api", "message": "42 errors in 5m",
        "date": "2024-05-01T01:02:03.000Z",
    } | overrides  # fmt: skip


def test_kibana_rule_alert_triggers_per_rule_and_alert_id():
    [event] = KIBANA.parse(make_request(make_kibana_rule()), {})
    assert (event.action, event.dedup_key, event.severity) == (
        AlertAction.TRIGGER,
        "5a3c:checkout-api",
        Severity.ERROR,
    )
    assert event.labels["team"] == "payments" and event.labels["tag:prod"] == "true"
    assert event.links[0]["text"] == "Rule"


def test_kibana_recovered_action_group_resolves():
    [event] = KIBANA.parse(make_request(make_kibana_rule(action_group="recovered")), {})
    assert (event.action, event.dedup_key) == (AlertAction.RESOLVE, "5a3c:checkout-api")


def test_watcher_context_triggers_per_watch_and_metadata_can_resolve():
    ctx = {"watch_id": "disk", "id": "disk_1", "execution_time": "2024-05-01T01:00:00Z",
           "metadata": {"severity": "warning", "name": "Disk watch"},
           "payload": {"hits": {"total": {"value": 3, "relation": "eq"}, "hits": ["big"]}}}  # fmt: skip
    [event] = KIBANA.parse(make_request(ctx), {})
    assert (event.dedup_key, event.severity, event.summary) == (
        "watch:disk",
        Severity.WARNING,
        "Disk watch (3 hits)",
    )
    assert "payload" not in event.details
    ctx["metadata"]["action"] = "resolve"
    assert KIBANA.parse(make_request(ctx), {})[0].action is AlertAction.RESOLVE


def test_kibana_rejects_bodies_it_does_not_recognise():
    with pytest.raises(PayloadError) as err:
        KIBANA.parse(make_request({"hello": 1}), {})
    assert err.value.field == "rule_id"


def test_generic_default_shape_single_and_batch():
    one = {"dedup_key": "db-1/disk", "status": "firing", "severity": "warn", "summary": "Disk 95%",
           "labels": {"team": "db"}, "links": ["https://grafana/d/1"]}  # fmt: skip
    [event] = GENERIC.parse(make_request(one), {})
    assert (event.dedup_key, event.action, event.severity) == (
        "db-1/disk",
        AlertAction.TRIGGER,
        Severity.WARNING,
    )
    events = GENERIC.parse(make_request([one, one | {"status": "ok"}]), {})
    assert [e.action for e in events] == [AlertAction.TRIGGER, AlertAction.RESOLVE]


def test_generic_without_dedup_key_dedups_identical_resends():
    body = {"summary": "Disk 95%", "source": "db-1"}
    assert (
        GENERIC.parse(make_request(body), {})[0].dedup_key
        == GENERIC.parse(make_request(body), {})[0].dedup_key
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [({"severity": "info"}, "summary"), ([{"summary": "ok"}, {"summary": ""}], "[1].summary"),
     ({"summary": "x", "action": "explode"}, "action"), ({"summary": "x", "labels": []}, "labels")],
)  # fmt: skip
def test_generic_bad_payloads_name_the_field(body, field):
    with pytest.raises(PayloadError) as err:
        GENERIC.parse(make_request(body), {})
    assert err.value.field == field


MAPPING = {
    "items": "data.alerts",
    "dedup_key": "alert.id",
    "summary": "name ~ ' on ' ~ (host or 'unknown')",
    "severity": "{'p1': 'critical', 'p2': 'error'}.get(priority, 'warning')",
    "resolve": "state == 'closed'",
    "labels": {"host": "host", "team": "body.team"},
}


def test_mapping_with_items_path_maps_every_alert():
    body = {"team": "db", "data": {"alerts": [
        {"id": 1, "name": "Disk", "host": "db-1", "priority": "p1", "state": "open"},
        {"id": 2, "name": "CPU", "priority": "p9", "state": "closed"},
    ]}}  # fmt: skip
    first, second = GENERIC.parse(make_request(body), {"mapping": MAPPING})
    assert (first.dedup_key, first.summary, first.severity) == ("1", "Disk on db-1", Severity.CRITICAL)
    assert first.labels == {"host": "db-1", "team": "db"}
    assert (second.action, second.severity, second.summary) == (
        AlertAction.RESOLVE,
        Severity.WARNING,
        "CPU on unknown",
    )


def test_mapping_cannot_reach_python_internals_or_mutate_the_body():
    with pytest.raises(PayloadError, match="no summary"):
        GENERIC.parse(make_request({"x": 1}), {"mapping": {"summary": "alert.__class__.__mro__"}})
    with pytest.raises(PayloadError, match="unsafe"):
        GENERIC.parse(make_request({"x": 1}), {"mapping": {"summary": "alert.pop('x')"}})
    with pytest.raises(PayloadError, match="Range too big"):
        GENERIC.parse(make_request({"x": 1}), {"mapping": {"summary": "range(10**9)|list"}})


def test_broken_mapping_is_a_configuration_error():
    with pytest.raises(MappingConfigError):
        GENERIC.parse(make_request({}), {"mapping": {"summary": "a +"}})
    with pytest.raises(MappingConfigError, match="unknown mapping keys"):
        GENERIC.parse(make_request({}), {"mapping": {"sumary": "a"}})


def test_items_path_that_is_not_a_list_names_the_path():
    with pytest.raises(PayloadError) as err:
        GENERIC.parse(make_request({"data": {"alerts": {}}}), {"mapping": MAPPING})
    assert err.value.field == "data.alerts"
