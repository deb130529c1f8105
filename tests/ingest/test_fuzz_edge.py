"""Whatever arrives at an ingest endpoint, the answer is a 2xx or a 4xx that names the problem; never 5xx.

Hypothesis sends, over real HTTP, arbitrary JSON, valid vendor payloads with one field replaced
by arbitrary JSON, and raw bytes, with arbitrary and valid keys in every place a key can go.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest import support as s
from tests.ingest.live import live_koban

VALID: dict[str, list[Any]] = {
    "alertmanager": [s.sample("alertmanager-webhook-prometheus-firing.json")],
    "prometheus": [
        [{"labels": {"alertname": "X", "instance": "a"}, "endsAt": "2030-01-01T00:00:00Z"}],
    ],
    "grafana": [s.grafana_body()],
    "kibana": [s.kibana_body()],
    "zabbix": [s.zabbix_body()],
    "pagerduty": [s.pagerduty_body()],
    "generic": [s.generic_body()],
    "mapped": [s.mapped_body()],
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "firing", "resolved", "0001-01-01T00:00:00Z", "2030-13-45T99:00:00Z", "\x00"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def _set_path(body: Any, path: list[int], value: Any) -> Any:
    """Replace one node of ``body`` (chosen by ``path`` indices) with ``value``."""
    if not path or not isinstance(body, dict | list) or not body:
        return value
    if isinstance(body, dict):
        name = list(body)[path[0] % len(body)]
        return {**body, name: _set_path(body[name], path[1:], value)}
    i = path[0] % len(body)
    return [*body[:i], _set_path(body[i], path[1:], value), *body[i + 1 :]]


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[str, str, dict[str, bytes], bytes]:
    kind = draw(st.sampled_from(list(VALID)))
    key = draw(st.sampled_from([s.key_for(kind), "nope", "\u00e9t\u00e9"]))
    endpoint = draw(st.sampled_from(["ingest", "path", "v2alerts", "enqueue"]))
    shape = draw(st.sampled_from(["mutated", "json", "bytes"]))
    if shape == "bytes":
        body = draw(st.binary(max_size=200))
    else:
        base = draw(st.sampled_from(VALID[kind])) if shape == "mutated" else None
        value = draw(json_values)
        doc = _set_path(base, draw(st.lists(st.integers(0, 50), max_size=4)), value) if base else value
        if endpoint == "enqueue" and isinstance(doc, dict) and draw(st.booleans()):
            doc = {**doc, "routing_key": key}
        body = orjson.dumps(doc)
    headers = {
        "Content-Type": draw(st.sampled_from(["application/json", "text/plain", "", "x/y; charset=zz"]))
    }
    where = draw(st.sampled_from(["bearer", "basic", "x-api-key", "garbage", "none"]))
    if where == "bearer":
        headers["Authorization"] = f"Bearer {key}"
    elif where == "basic":
        headers["Authorization"] = s.basic("u", key)["Authorization"]
    elif where == "x-api-key":
        headers["X-Api-Key"] = key
    elif where == "garbage":
        headers["Authorization"] = draw(
            st.sampled_from(["Basic", "Basic ===", "Bearer", "Digest x", "Basic w6k="])
        )
    path = {
        "ingest": "/api/v1/ingest",
        "path": f"/api/v1/ingest/{key}",
        "v2alerts": "/api/v2/alerts",
        "enqueue": "/v2/enqueue",
    }[endpoint]
    # UTF-8 on the wire, as a misbehaving client would send it (HTTP allows only ASCII).
    return kind, path, {k: v.encode() for k, v in headers.items()}, body


@pytest.fixture
def server(db_url, tmp_path) -> Iterator[str]:
    with live_koban(db_url, s.edge_config(), tmp_path) as url:
        yield url


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delivery=deliveries())
def test_no_ingest_input_gets_a_5xx_and_every_4xx_names_the_problem(server, delivery):
    _, path, headers, body = delivery
    with httpx.Client(base_url=server, timeout=30) as c:
        r = c.post(path, content=body, headers=headers)
    assert r.status_code < 500, (path, headers, body[:300], r.text)
    if r.status_code >= 400:
        got = r.json()
        assert got.get("error") or got.get("errors"), r.text


def test_an_oversize_body_is_413_even_without_a_content_length(server):
    big = b"[" + b"1," * 600_000 + b"1]"

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    with httpx.Client(base_url=server, timeout=30) as c:
        for path in ("/api/v1/ingest", "/v2/enqueue"):
            r = c.post(path, content=chunks(), headers=s.bearer("generic"))
            assert r.status_code == 413 and "limit" in r.text
        r = c.post("/api/v1/ingest", content=big, headers=s.bearer("generic"))
        assert r.status_code == 413
