"""Pages leave through the real webhook channel to a recording receiver that checks signatures."""

from __future__ import annotations

import asyncio

from koban.core.clock import FakeClock
from koban.fakes.webhook_receiver import RecordingReceiver
from tests.support.factories import make_alert, make_config
from tests.support.system import deliveries, drain


def webhook_config(url: str):
    return make_config(
        channels=[
            {"id": "log", "type": "console"},
            {"id": "hook", "type": "webhook", "url": url, "secret": "s3cret"},
        ],
        steps=[{"notify": [{"channel": "hook"}, {"person": "alice"}], "escalate_after": "5m"}],
    )


async def test_a_page_reaches_the_webhook_once_signed_with_the_delivery_key(db_url, tmp_path):
    from tests.support.system import running_system

    clock = FakeClock()
    async with (
        RecordingReceiver("s3cret", clock=clock.now) as recv,
        running_system(db_url, webhook_config(recv.url), tmp_path, clock=clock) as k,
    ):
        [res] = await k.batcher.submit("web-generic", [make_alert()])
        await drain(k)
        assert len(recv.deliveries) == 1
        assert recv.deliveries[0]["idempotency_key"] == f"{res.incident_id}:0:hook:0"
        assert ("page", "sent") in [(d[1], d[2]) for d in await deliveries(k)]


async def test_a_transient_failure_is_retried_and_delivered_once(db_url, tmp_path):
    from tests.support.system import running_system

    clock = FakeClock()
    async with RecordingReceiver("s3cret", clock=clock.now) as recv:
        recv.fail_next(1, status=503)
        async with running_system(db_url, webhook_config(recv.url), tmp_path, clock=clock) as k:
            await k.batcher.submit("web-generic", [make_alert()])
            await drain(k)
            assert recv.deliveries == []
            k.clock.advance(60)  # past the backoff
            await drain(k)
            await asyncio.sleep(0)
            assert len(recv.deliveries) == 1
            assert recv.state.duplicates == 0
