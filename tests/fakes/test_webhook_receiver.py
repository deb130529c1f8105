import time

import aiohttp

from koban.channels.webhook import sign
from koban.fakes.webhook_receiver import RecordingReceiver


async def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as resp:
        return resp.status


def _signed(secret: str, body: bytes, key: str, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    return {
        "X-Koban-Timestamp": str(ts),
        "X-Koban-Signature": sign(secret, ts, body),
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }


async def test_receiver_records_once_per_idempotency_key_and_counts_duplicates():
    async with RecordingReceiver("s") as r:
        assert await _post(r.url, b"{}", _signed("s", b"{}", "k1")) == 200
        assert await _post(r.url, b"{}", _signed("s", b"{}", "k1")) == 200
        assert await _post(r.url, b"{}", _signed("s", b"{}", "k2")) == 200
        async with aiohttp.ClientSession() as s, s.get(r.url.replace("/hook", "/_recv/deliveries")) as resp:
            data = await resp.json()
        assert [d["idempotency_key"] for d in data["deliveries"]] == ["k1", "k2"]
        assert data["duplicates"] == 1 and data["attempts"] == 3


async def test_receiver_rejects_stale_timestamp_and_forged_signature():
    async with RecordingReceiver("s") as r:
        stale = _signed("s", b"{}", "k", ts=int(time.time()) - 3600)
        assert await _post(r.url, b"{}", stale) == 401
        assert await _post(r.url, b"{}", _signed("forged", b"{}", "k")) == 401
        assert r.deliveries == [] and r.state.rejected == 2


async def test_scripted_failures_do_not_record_and_a_retry_is_a_new_delivery():
    async with RecordingReceiver("s") as r:
        r.fail_next(2, status=500)
        codes = [await _post(r.url, b"{}", _signed("s", b"{}", "k")) for _ in range(3)]
        assert codes == [500, 500, 200]
        assert len(r.deliveries) == 1 and r.state.failed == 2
