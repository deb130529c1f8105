"""The Elasticsearch 8/9 path, against answers shaped as ../shared/protocols.md section 7 says (no
Elasticsearch node runs in the tests; the real one is OpenSearch): koban sends the same plain
``POST /<index>/_search`` with JSON, reads an answer that carries Elasticsearch's product header and
vendor media type, and says why when Elasticsearch refuses (its error shape)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from koban.config.model_logs import Digest, LogCluster
from koban.core import outbound
from koban.core.outbound import OutboundResponse
from koban.logs.client import LogQueryError
from koban.logs.digests import summary_of
from koban.logs.windows import Window

ES = {
    "X-Elastic-Product": "Elasticsearch",
    "Content-Type": "application/vnd.elasticsearch+json;compatible-with=8",
}
DAY = datetime(2024, 4, 30, 15, 0, tzinfo=UTC)  # 2024-05-01 00:00 in Tokyo
MS = int(DAY.timestamp() * 1000)


class FakeElasticsearch:
    """Answers ``_search`` as Elasticsearch 8 does (section 7.2), and records what it was sent."""

    def __init__(self, status: int, answer: Mapping[str, Any]) -> None:
        self.status, self.answer = status, answer
        self.sent: list[tuple[str, str, dict[str, str], dict[str, Any]]] = []

    async def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, _budget: float
    ) -> OutboundResponse:
        self.sent.append((method, url, dict(headers), json.loads(body or b"{}")))
        return OutboundResponse(self.status, ES, json.dumps(self.answer).encode())


@pytest.fixture
async def elasticsearch() -> AsyncIterator[list[FakeElasticsearch]]:
    fakes: list[FakeElasticsearch] = []

    async def route(*args: Any) -> OutboundResponse:
        return await fakes[-1](*args)

    outbound.use_transport(route)
    yield fakes
    outbound.use_transport(None)


def _digest() -> Digest:
    return Digest.model_validate({
        "id": "d", "cluster": "es", "index": "logs-*", "level_field": "log.level", "channels": ["c"],
        "schedule": {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"}, "window": "yesterday",
        "new_pattern_days": 0, "mover_weeks": 0,
    })  # fmt: skip


CLUSTER = LogCluster.model_validate(
    {"id": "es", "url": "https://es.example:9200", "auth": {"type": "api_key", "api_key": "aWQ6a2V5"}}
)
WINDOW = Window(DAY, datetime(2024, 5, 1, 15, tzinfo=UTC))

ANSWER = {
    "took": 12, "timed_out": False, "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0},
    "hits": {"total": {"value": 1520, "relation": "eq"}, "max_score": None, "hits": []},
    "aggregations": {
        "levels": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                   "buckets": [{"key": "info", "doc_count": 1400}, {"key": "error", "doc_count": 120}]},
        "hours": {"buckets": [
            {"key_as_string": "2024-05-01T00:00:00.000+09:00", "key": MS, "doc_count": 1000},
            {"key_as_string": "2024-05-01T01:00:00.000+09:00", "key": MS + 3_600_000, "doc_count": 520},
        ]},
        "messages": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": [
            {"key": "payment 17 failed", "doc_count": 70, "first": {"value": MS},
             "last": {"value": MS + 60_000}},
            {"key": "payment 18 failed", "doc_count": 50, "first": {"value": MS},
             "last": {"value": MS + 90_000}},
        ]},
    },
}  # fmt: skip


async def test_a_digest_reads_an_elasticsearch_8_answer(elasticsearch):
    elasticsearch.append(FakeElasticsearch(200, ANSWER))
    summary = await summary_of(CLUSTER, _digest(), WINDOW)
    assert (summary.total, summary.levels) == (1520, {"info": 1400, "error": 120})
    assert summary.peak_hour == "2024-05-01T00:00:00+09:00" and summary.peak_count == 1000
    assert [(p.pattern, p.count) for p in summary.patterns] == [("payment <N> failed", 120)]
    [(method, url, headers, body)] = elasticsearch[0].sent
    assert method == "POST" and url.startswith("https://es.example:9200/logs-*/_search?")
    assert headers["Authorization"] == "ApiKey aWQ6a2V5" and headers["Content-Type"] == "application/json"
    assert body["size"] == 0 and body["track_total_hits"] is True
    assert body["aggs"]["levels"]["terms"]["field"] == "log.level"


@pytest.mark.parametrize(
    ("auth", "header"),
    [
        ({"type": "basic", "username": "elastic", "password": "s3cret"}, "Basic ZWxhc3RpYzpzM2NyZXQ="),
        ({"type": "api_key", "api_key": "aWQ6a2V5"}, "ApiKey aWQ6a2V5"),
        ({"type": "none"}, None),
    ],
)
async def test_each_auth_goes_on_the_wire_as_elasticsearch_reads_it(elasticsearch, auth, header):
    elasticsearch.append(FakeElasticsearch(200, ANSWER))
    cluster = CLUSTER.model_copy(update={"auth": type(CLUSTER.auth).model_validate(auth)})
    await summary_of(cluster, _digest(), WINDOW)
    assert elasticsearch[0].sent[0][2].get("Authorization") == header


@pytest.mark.parametrize(
    ("status", "error", "said"),
    [
        (404, {"type": "index_not_found_exception", "reason": "no such index [logs-x]"},
         "HTTP 404: index_not_found_exception: no such index [logs-x]"),
        (401, {"type": "security_exception", "reason": "unable to authenticate with provided credentials"},
         "HTTP 401: security_exception: unable to authenticate"),
        (400, {"type": "illegal_argument_exception", "reason": "Text fields are not optimised for this"},
         "HTTP 400: illegal_argument_exception: Text fields are not optimised"),
    ],
)  # fmt: skip
async def test_an_elasticsearch_refusal_says_why(elasticsearch, status, error, said):
    answer = {"error": {"root_cause": [error], **error}, "status": status}
    elasticsearch.append(FakeElasticsearch(status, answer))
    with pytest.raises(LogQueryError, match=said.replace("[", r"\[").replace("]", r"\]")):
        await summary_of(CLUSTER, _digest(), WINDOW)
