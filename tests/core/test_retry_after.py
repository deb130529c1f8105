"""Retry-After in both HTTP forms is honoured by outbound deliveries (issue 17, item 20)."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from koban.channels.slack.classify import classify
from koban.core.outbound import OutboundResponse
from koban.core.retry_after import parse_retry_after

NOW = 1_800_000_000.0


def test_seconds():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("-5") == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "inf", "nan", "Mon, 99 Foo 2030 00:00:00 GMT"])
def test_unreadable_is_none(value):
    assert parse_retry_after(value, now=NOW) is None


def test_an_http_date_is_measured_against_the_answers_own_date_header():
    later = formatdate(NOW + 90, usegmt=True)
    # The sender's clock says NOW; ours runs an hour ahead: the wait is still the sender's 90 s.
    assert parse_retry_after(later, date=formatdate(NOW, usegmt=True), now=NOW + 3600) == 90.0
    assert parse_retry_after(later, now=NOW) == 90.0
    assert parse_retry_after(formatdate(NOW - 10, usegmt=True), now=NOW) == 0.0


def test_webhook_and_pagerduty_responses_honour_the_date_form():
    resp = OutboundResponse(503, {"Retry-After": formatdate(NOW + 45, usegmt=True)}, b"")
    assert resp.retry_after(now=NOW) == 45.0
    dated = OutboundResponse(
        429,
        {"retry-after": formatdate(NOW + 30, usegmt=True), "Date": formatdate(NOW, usegmt=True)},
        b"",
    )
    assert dated.retry_after() == 30.0


def test_slack_honours_the_date_form():
    headers = {"Retry-After": formatdate(NOW + 20, usegmt=True), "Date": formatdate(NOW, usegmt=True)}
    assert classify(429, "ratelimited", headers).retry_after == 20.0
