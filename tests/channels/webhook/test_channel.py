import json
import socket

import pytest

from koban.channels.base import DeliveryStatus
from koban.channels.webhook import WebhookChannel, sign, verify_signature
from koban.fakes.webhook_receiver import RecordingReceiver
from tests.channels.factories import make_incident, make_notification

SECRET = "s3cret"
NOW = 1_772_366_400.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_page_is_posted_signed_with_idempotency_key_and_default_shape():
    async with RecordingReceiver(SECRET) as r:
        n = make_notification({"url": r.url, "secret": SECRET})
        result = await WebhookChannel().send(n)
        assert result.status is DeliveryStatus.SENT
        [d] = r.deliveries
        assert d["idempotency_key"] == n.key == d["delivery"]
        body = d["json"]
        assert body["kind"] == "page" and body["delivery_key"] == n.key and body["version"] == 1
        assert body["incident"]["id"] == 42 and body["incident"]["severity"] == "critical"
        assert body["incident"]["created_at"].startswith("2026-03-01T12:00")


async def test_receiver_rejects_wrong_secret_and_channel_calls_it_permanent():
    async with RecordingReceiver(SECRET) as r:
        result = await WebhookChannel().send(make_notification({"url": r.url, "secret": "other"}))
        assert result.status is DeliveryStatus.PERMANENT and "401" in (result.error or "")
        assert r.deliveries == [] and r.state.rejected == 1


async def test_sandboxed_template_shapes_the_body():
    template = (
        '{"text": {{ ("[" ~ incident.severity ~ "] " ~ incident.summary) | tojson }}, "k": {{ kind|tojson }}}'
    )
    async with RecordingReceiver(SECRET) as r:
        await WebhookChannel().send(make_notification({"url": r.url, "secret": SECRET, "template": template}))
        assert r.deliveries[0]["json"] == {"text": "[critical] DB down", "k": "page"}


@pytest.mark.parametrize(
    "template",
    ["{{ ''.__class__.__mro__[1].__subclasses__() }}", "not json {{ kind }}", "{% for %}"],
)
async def test_unsafe_or_broken_template_fails_permanently_without_sending(template):
    async with RecordingReceiver(SECRET) as r:
        result = await WebhookChannel().send(
            make_notification({"url": r.url, "secret": SECRET, "template": template})
        )
        assert result.status is DeliveryStatus.PERMANENT
        assert r.state.attempts == 0


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, DeliveryStatus.TRANSIENT),
        (503, DeliveryStatus.TRANSIENT),
        (429, DeliveryStatus.TRANSIENT),
        (408, DeliveryStatus.TRANSIENT),
        (400, DeliveryStatus.PERMANENT),
        (404, DeliveryStatus.PERMANENT),
        (410, DeliveryStatus.PERMANENT),
    ],
)
async def test_receiver_status_is_classified(status, expected):
    async with RecordingReceiver(SECRET) as r:
        r.fail_next(1, status=status)
        result = await WebhookChannel().send(make_notification({"url": r.url, "secret": SECRET}))
        assert result.status is expected


async def test_429_retry_after_is_passed_on_and_retry_then_succeeds():
    async with RecordingReceiver(SECRET) as r:
        r.fail_next(1, status=429, retry_after=7)
        channel = WebhookChannel()
        n = make_notification({"url": r.url, "secret": SECRET})
        first = await channel.send(n)
        assert first.status is DeliveryStatus.TRANSIENT and first.retry_after == 7
        assert (await channel.send(n)).status is DeliveryStatus.SENT
        assert len(r.deliveries) == 1


async def test_connection_refused_is_transient():
    n = make_notification({"url": f"http://127.0.0.1:{free_port()}/hook", "secret": SECRET})
    result = await WebhookChannel().send(n)
    assert result.status is DeliveryStatus.TRANSIENT


async def test_timeout_after_sending_is_in_doubt_and_reconcile_does_not_deliver_twice():
    async with RecordingReceiver(SECRET) as r:
        r.hang_next(1)
        channel = WebhookChannel()
        n = make_notification({"url": r.url, "secret": SECRET, "timeout": 0.3})
        first = await channel.send(n)
        assert first.status is DeliveryStatus.IN_DOUBT
        settled = await channel.reconcile(n, None)
        assert settled.status is DeliveryStatus.SENT
        assert len(r.deliveries) == 1 and r.state.duplicates == 1


async def test_missing_url_is_permanent():
    result = await WebhookChannel().send(make_notification({}))
    assert result.status is DeliveryStatus.PERMANENT


async def test_extra_headers_cannot_override_signature_or_idempotency():
    async with RecordingReceiver(SECRET) as r:
        cfg = {"url": r.url, "secret": SECRET, "headers": {"Idempotency-Key": "x", "X-Team": "db"}}
        assert (await WebhookChannel().send(make_notification(cfg))).status is DeliveryStatus.SENT
        assert r.deliveries[0]["idempotency_key"] == "inc42-s0-alice-1"


async def test_update_kind_carries_acknowledgement():
    incident = make_incident(status="acknowledged", acknowledged_by="bob", acknowledged_via="slack")
    async with RecordingReceiver(SECRET) as r:
        await WebhookChannel().send(
            make_notification({"url": r.url, "secret": SECRET}, kind="update", incident=incident)
        )
        body = json.loads(r.deliveries[0]["body"])
        assert body["kind"] == "update" and body["incident"]["acknowledged_by"] == "bob"


def test_signature_verifies_within_window_only():
    body = b'{"a":1}'
    header = sign(SECRET, int(NOW), body)
    assert verify_signature(SECRET, str(int(NOW)), body, header, now=NOW + 299)
    assert not verify_signature(SECRET, str(int(NOW)), body, header, now=NOW + 301)
    assert not verify_signature(SECRET, str(int(NOW)), body + b" ", header, now=NOW)
    assert not verify_signature("other", str(int(NOW)), body, header, now=NOW)
    assert not verify_signature(SECRET, "yesterday", body, header, now=NOW)
    assert not verify_signature(SECRET, str(int(NOW)), body, None, now=NOW)


def test_signature_accepts_any_listed_value_during_rotation():
    body = b"{}"
    header = f"{sign('old', int(NOW), body)}, {sign(SECRET, int(NOW), body)}"
    assert verify_signature(SECRET, str(int(NOW)), body, header, now=NOW)


def test_signature_is_hmac_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.hello", hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, b"hello") == f"v1={expected}"
