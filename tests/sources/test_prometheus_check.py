"""The edge's cheap Prometheus check never vouches for a body the full parser would refuse."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from koban.sources.base import InboundRequest, PayloadError
from koban.sources.prometheus import PrometheusSource

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
TIMES = st.sampled_from(
    [
        None, "", "0001-01-01T00:00:00Z", "2027-01-15T07:00:00Z", "2027-01-15T09:00:00+02:00",
        "2027-01-15T08:30:00", "2027-01-15", "yesterday", 17, [],
    ]
)  # fmt: skip
SCALARS = st.one_of(st.none(), st.text(max_size=5), st.integers(), st.booleans())
STRING_MAPS = st.one_of(
    st.none(),
    SCALARS,
    st.lists(SCALARS, max_size=2),
    st.dictionaries(st.text(max_size=5), SCALARS, max_size=3),
)
ALERTS = st.one_of(
    SCALARS,
    st.fixed_dictionaries(
        {},
        optional={
            "labels": STRING_MAPS,
            "annotations": STRING_MAPS,
            "startsAt": TIMES,
            "endsAt": TIMES,
            "generatorURL": SCALARS,
        },
    ),
)
BODIES = st.one_of(SCALARS, st.lists(ALERTS, max_size=4))


@settings(max_examples=600, deadline=None)
@given(BODIES)
def test_a_body_the_check_accepts_parses_into_as_many_events(body):
    source = PrometheusSource()
    vouched = source.check(body, {})
    request = InboundRequest(body=b"", json=body, headers={}, query={}, received_at=NOW)
    try:
        events = source.parse(request, {})
    except PayloadError:
        assert vouched is None, body
        return
    assert vouched is None or vouched == len(events)


def test_the_check_vouches_for_what_prometheus_sends():
    alert = {
        "labels": {"alertname": "TargetDown", "instance": "web-1"},
        "annotations": {"summary": "down"},
        "startsAt": "2027-01-15T07:59:00Z",
        "endsAt": "2027-01-15T08:04:00Z",
        "generatorURL": "http://prometheus/graph",
    }
    assert PrometheusSource().check([alert, alert], {}) == 2
    assert PrometheusSource().check([], {}) == 0
