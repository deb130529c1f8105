import pytest

from koban.channels.voice.tokens import Claims, MemoryTokenStore, TokenError, sign, verify

SECRET = "s" * 20
CLAIMS = Claims(key="inc42-s0-alice-1", purpose="twiml", expires_at=1_000, token_id="t1", plays=1)


def test_a_signed_token_verifies_back_to_its_claims_before_expiry():
    assert verify(SECRET, sign(SECRET, CLAIMS), purpose="twiml", now=999) == CLAIMS


def test_an_expired_token_is_refused():
    with pytest.raises(TokenError, match="expired"):
        verify(SECRET, sign(SECRET, CLAIMS), purpose="twiml", now=1_000)


def test_a_token_signed_with_another_secret_is_refused_as_forged():
    with pytest.raises(TokenError, match="signature"):
        verify(SECRET, sign("x" * 20, CLAIMS), purpose="twiml", now=0)


def test_an_edited_payload_is_refused_as_forged():
    payload, mac = sign(SECRET, CLAIMS).split(".")
    other, _ = sign(SECRET, Claims("inc99-s0-eve-1", "twiml", 1_000, "t1")).split(".")
    with pytest.raises(TokenError, match="signature"):
        verify(SECRET, f"{other}.{mac}", purpose="twiml", now=0)


def test_a_token_minted_for_status_cannot_fetch_twiml():
    token = sign(SECRET, Claims("k", "status", 1_000, "t2"))
    with pytest.raises(TokenError, match="not twiml"):
        verify(SECRET, token, purpose="twiml", now=0)


@pytest.mark.parametrize("garbage", ["", "abc", ".", "a.b", "x" * 3000])
def test_malformed_tokens_are_refused_not_crashed_on(garbage):
    with pytest.raises(TokenError):
        verify(SECRET, garbage, purpose="twiml", now=0)


def test_during_rotation_the_old_secret_still_verifies_and_the_new_one_signs():
    old_token = sign("old-secret-0123456", CLAIMS)
    assert verify(("new-secret-0123456", "old-secret-0123456"), old_token, purpose="twiml", now=0) == CLAIMS
    new_token = sign(("new-secret-0123456", "old-secret-0123456"), CLAIMS)
    assert verify("new-secret-0123456", new_token, purpose="twiml", now=0) == CLAIMS


async def test_a_token_id_is_consumed_once_and_a_replay_is_refused():
    store = MemoryTokenStore()
    assert await store.consume("t1", expires_at=10) is True
    assert await store.consume("t1", expires_at=10) is False
    store.forget_expired(now=11)
    assert await store.consume("t1", expires_at=20) is True
