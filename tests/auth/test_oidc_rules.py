"""ID-token claim checks, as a table: issuer, audience (explicitly), expiry, nonce, subject."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from koban.auth.oidc_rules import Identity, Refusal, authorize_url, check_claims, pkce_challenge

NOW = 1_800_000_000.0
ISS, CLIENT, NONCE = "http://127.0.0.1:9400", "koban", "n-123"
GOOD = {
    "iss": ISS,
    "aud": [CLIENT],
    "exp": NOW + 300,
    "iat": NOW,
    "nonce": NONCE,
    "sub": "alice",
    "email": "alice@example.test",
    "groups": ["sre", "web"],
}


def check(**changes):
    return check_claims({**GOOD, **changes}, issuer=ISS, client_id=CLIENT, nonce=NONCE, now=NOW)


def test_a_good_token_gives_the_identity() -> None:
    assert check() == Identity(ISS, "alice", "alice@example.test", ("sre", "web"))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "http://evil.example"}, "issuer"),
        ({"aud": ["other-client"]}, "another client"),
        ({"aud": ["other-client"], "azp": CLIENT}, "another client"),  # Authlib's default accepts this one
        ({"aud": [CLIENT, "other"], "azp": "other"}, "another authorized party"),
        ({"exp": NOW - 121}, "expired"),
        ({"iat": NOW + 600}, "future"),
        ({"nonce": "replayed"}, "nonce"),
        ({"sub": ""}, "no subject"),
    ],
)
def test_a_bad_token_is_refused_with_the_reason(changes, reason) -> None:
    refused = check(**changes)
    assert isinstance(refused, Refusal) and reason in refused.reason


def test_an_unverified_email_is_not_used_to_find_the_person() -> None:
    assert check(email_verified=False).email is None


def test_the_authorization_request_carries_state_nonce_and_pkce() -> None:
    url = authorize_url(
        f"{ISS}/oauth2/authorize",
        client_id=CLIENT,
        redirect_uri="http://k/cb",
        state="s",
        nonce=NONCE,
        verifier="v" * 43,
        scopes="openid email",
    )
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert (q["state"], q["nonce"], q["code_challenge_method"]) == ("s", NONCE, "S256")
    assert q["code_challenge"] == pkce_challenge("v" * 43) and "=" not in q["code_challenge"]
