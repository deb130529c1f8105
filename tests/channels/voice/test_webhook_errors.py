"""Bad input on every Twilio-facing endpoint is a clear 4xx, never a 5xx."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from koban.channels.sms import build_sms_routes
from koban.channels.voice import MemoryCallStateStore, MemoryTokenStore, TwilioDeps, build_routes
from koban.channels.voice.tokens import Claims, sign
from tests.channels.voice.support import AUTH_TOKEN, SECRET, make_notification, make_settings
from tests.support.actions import RecordingActions

NOW = 1_800_000_000
BASE = "https://oncall.example"
N = make_notification()


@pytest.fixture
def client():
    async def resolve(key):
        return N if key == N.key else None

    async def person(number):
        return "alice"

    deps = TwilioDeps(
        make_settings(),
        RecordingActions(),
        MemoryTokenStore(),
        MemoryCallStateStore(),
        resolve,
        person,
        clock=lambda: NOW,
    )
    app = Starlette(routes=[*build_routes(deps), *build_sms_routes(deps)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


def token(purpose: str, expires: int = NOW + 60, token_id: str = "t1") -> str:
    return sign(SECRET, Claims(N.key, purpose, expires, token_id))


def signed(path: str, form: dict[str, str], auth: str = AUTH_TOKEN) -> dict:
    sig = RequestValidator(auth).compute_signature(BASE + path, form)
    return {
        "content": urlencode(form),
        "headers": {"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"},
    }


CALL = {
    "CallSid": "CA1",
    "AccountSid": "AC1",
    "From": "+15005550006",
    "To": "+15550000001",
    "CallStatus": "in-progress",
}


async def test_unsigned_request_is_403(client):
    async with client:
        resp = await client.post(f"/twilio/voice/twiml?t={token('twiml')}", data=CALL)
    assert resp.status_code == 403 and "X-Twilio-Signature" in resp.text


async def test_request_signed_with_another_token_is_403(client):
    path = f"/twilio/voice/twiml?t={token('twiml')}"
    async with client:
        resp = await client.post(path, **signed(path, CALL, auth="forged"))
    assert resp.status_code == 403


async def test_valid_signature_but_forged_token_is_403(client):
    path = f"/twilio/voice/twiml?t={sign('another-secret-123456', Claims(N.key, 'twiml', NOW + 60, 't'))}"
    async with client:
        resp = await client.post(path, **signed(path, CALL))
    assert resp.status_code == 403 and "signature" in resp.text


async def test_expired_token_is_403(client):
    path = f"/twilio/voice/twiml?t={token('twiml', expires=NOW)}"
    async with client:
        resp = await client.post(path, **signed(path, CALL))
    assert resp.status_code == 403 and "expired" in resp.text


async def test_a_replayed_twiml_url_is_403_the_second_time(client):
    path = f"/twilio/voice/twiml?t={token('twiml')}"
    async with client:
        first = await client.post(path, **signed(path, CALL))
        second = await client.post(path, **signed(path, CALL))
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/xml")
    assert "<Gather" in first.text
    assert second.status_code == 403 and "already used" in second.text


async def test_non_form_body_is_415(client):
    path = f"/twilio/voice/status?t={token('status')}"
    sig = RequestValidator(AUTH_TOKEN).compute_signature(BASE + path, {})
    async with client:
        resp = await client.post(path, json={"a": 1}, headers={"X-Twilio-Signature": sig})
    assert resp.status_code == 415


async def test_status_without_a_numeric_sequence_number_is_400(client):
    path = f"/twilio/voice/status?t={token('status')}"
    form = {**CALL, "CallStatus": "ringing", "SequenceNumber": "x"}
    async with client:
        resp = await client.post(path, **signed(path, form))
    assert resp.status_code == 400


async def test_status_token_is_not_consumed_so_every_callback_is_accepted(client):
    path = f"/twilio/voice/status?t={token('status')}"
    async with client:
        for seq, status in enumerate(["initiated", "ringing"]):
            form = {**CALL, "CallStatus": status, "SequenceNumber": str(seq)}
            resp = await client.post(path, **signed(path, form))
            assert resp.status_code == 204


async def test_get_is_405_and_unknown_path_is_404(client):
    async with client:
        assert (await client.get("/twilio/voice/twiml")).status_code == 405
        assert (await client.post("/twilio/voice/nope")).status_code == 404


async def test_unsigned_sms_reply_is_403(client):
    async with client:
        resp = await client.post("/twilio/sms/inbound", data={"From": "+15550000001", "Body": "1 42K"})
    assert resp.status_code == 403
