from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from koban.probes import CertInfo, Condition, Conditions, ConditionSyntaxError, ProbeResult

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BODY = {"data": {"status": "UP", "items": [{"id": 7}, {"id": 8}], "ok": True, "none": None}, "count": 3}


def make_result(**kw) -> ProbeResult:
    base = dict(
        kind="http",
        target="http://x",
        success=True,
        started_at=NOW,
        duration=0.123,
        status_code=200,
        headers={"content-type": "application/json; charset=utf-8"},
        body=json.dumps(BODY).encode(),
        connected=True,
        ip="127.0.0.1",
        cert=CertInfo(leaf_expiry=NOW + timedelta(days=3), earliest_expiry=NOW + timedelta(days=3)),
        dns_rcode="NOERROR",
    )
    base.update(kw)
    return ProbeResult(**base)


@pytest.mark.parametrize(
    ("text", "passed", "actual"),
    [
        ("[STATUS] == 200", True, "200"),
        ("[STATUS] != 200", False, "200"),
        ("[STATUS] < 300", True, "200"),
        ("[STATUS] == any(201, 200)", True, "200"),
        ("[STATUS] != any(500, 503)", True, "200"),
        ("[RESPONSE_TIME] < 300", True, "123"),
        ("[RESPONSE_TIME] <= 100", False, "123"),
        ("[RESPONSE_TIME] < 1s", True, "123"),
        ("[BODY] == pat(*UP*)", True, None),
        ("[BODY] == pat(*DOWN*)", False, None),
        ("[BODY].data.status == UP", True, "UP"),
        ('[BODY].data.status == "UP"', True, "UP"),
        ("[BODY].data.items[1].id == 8", True, "8"),
        ("[BODY].data.ok == true", True, "true"),
        ("[BODY].data.none == null", True, "null"),
        ("[BODY].count > 2", True, "3"),
        ("[BODY].count == 3.0", True, "3"),
        ("len([BODY].data.items) == 2", True, "2"),
        ("len([BODY]) > 0", True, None),
        ("has([BODY].data.status) == true", True, "true"),
        ("has([BODY].data.missing) == false", True, "false"),
        ("[HEADER].content-type == pat(*json*)", True, "application/json; charset=utf-8"),
        ("[HEADER].Content-Type == pat(*json*)", True, "application/json; charset=utf-8"),
        ("[CERTIFICATE_EXPIRATION] > 48h", True, str(3 * 86400 * 1000)),
        ("[CERTIFICATE_EXPIRATION] > 7d", False, str(3 * 86400 * 1000)),
        ("[CONNECTED] == true", True, "true"),
        ("[IP] == 127.0.0.1", True, "127.0.0.1"),
        ("[DNS_RCODE] == NOERROR", True, "NOERROR"),
        ('[BODY] =~ "\\"status\\": \\"(UP|GREEN)\\""', True, None),
        ('[BODY] =~ "DOWN"', False, None),
        ("[BODY].data.status == some words here", False, "UP"),
    ],
)
def test_condition_evaluation(text: str, passed: bool, actual: str | None) -> None:
    (result,) = Conditions.parse([text]).evaluate(make_result(), NOW)
    assert result.success is passed, result
    if actual is not None:
        assert result.actual == actual


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[BODY].data.nope == 1", "path [BODY].data.nope not found"),
        ("[HEADER].x-missing == 1", "header [HEADER].x-missing not found"),
        ("[BODY].data.status > 3", "cannot compare 'UP' with '3' as numbers"),
    ],
)
def test_condition_that_cannot_be_evaluated_fails_with_reason(text: str, error: str) -> None:
    (result,) = Conditions.parse([text]).evaluate(make_result(), NOW)
    assert not result.success
    assert result.error == error
    assert result.describe() == f"{text} ({error})"


def test_json_path_on_non_json_body_is_not_found() -> None:
    (result,) = Conditions.parse(["[BODY].a == 1"]).evaluate(make_result(body=b"<html>"), NOW)
    assert result.error == "path [BODY].a not found"


def test_no_certificate_counts_as_zero_expiration() -> None:
    (result,) = Conditions.parse(["[CERTIFICATE_EXPIRATION] > 1h"]).evaluate(make_result(cert=None), NOW)
    assert not result.success and result.actual == "0"


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ("[STATUS] = 200", 10, "an operator (==, !=, <, <=, >, >=, =~)"),
        ("[STATUS]", 9, "an operator"),
        ("[STATU] == 200", 1, "one of [BODY]"),
        ("[STATUS] ==", 12, "a placeholder like [STATUS]"),
        ("len([BODY] > 0", 12, "')' closing len("),
        ("has([STATUS]) == true", 14, "has() takes a [BODY] path"),
        ("[BODY] > pat(*x*)", 8, "== or != with pat() / any()"),
        ('[BODY] =~ "("', 11, "a valid regular expression"),
        ("[HEADER] == x", 9, "a header name"),
        ("[STATUS].x == 1", 1, "no path after [STATUS]"),
        ('[BODY] == "unterminated', 24, 'closing "'),
        ("[BODY]. == 1", 8, "a field name after '.'"),
    ],
)
def test_parse_errors_name_the_column_and_what_was_expected(text: str, column: int, expected: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        Condition.parse(text)
    message = str(info.value)
    assert f"column {column}: expected {expected}" in message, message
    assert message.startswith(f'condition "{text}"')


def test_all_conditions_are_kept_in_order() -> None:
    conditions = Conditions.parse(["[STATUS] == 200", "[STATUS] == 500", "[CONNECTED] == true"])
    results = conditions.evaluate(make_result(), NOW)
    assert [r.success for r in results] == [True, False, True]
    assert len(conditions) == 3


@pytest.mark.parametrize(
    ("text", "expiry_in", "passed"),
    [
        ("[CERTIFICATE_EXPIRATION] > 1h30m", 2 * 3600, True),
        ("[CERTIFICATE_EXPIRATION] > 1h30m", 3600, False),
        ("[CERTIFICATE_EXPIRATION] > 2w", 15 * 86400, True),
        ("[CERTIFICATE_EXPIRATION] > 1d12h", 86400, False),
    ],
)
def test_durations_in_conditions_use_the_configs_grammar(text: str, expiry_in: float, passed: bool) -> None:
    """What loads works (issue 17, item 20): ``1h30m`` and ``2w`` parse as the config's durations do,
    instead of loading and then failing every probe as an unparsable string."""
    expiry = NOW + timedelta(seconds=expiry_in)
    cert = CertInfo(leaf_expiry=expiry, earliest_expiry=expiry)
    (result,) = Conditions.parse([text]).evaluate(make_result(cert=cert), NOW)
    assert result.success is passed, result
