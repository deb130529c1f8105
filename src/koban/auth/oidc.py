"""Single sign-on with OpenID Connect: discovery, the code exchange and the ID token's signature.

The provider's metadata and keys are fetched through ``core/outbound.py`` and kept for an hour (a
key id never seen before fetches the keys again once: the provider rotated them). Signatures are
verified with joserfc (Authlib's JOSE library); the claims are checked by ``oidc_rules``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from koban.auth.oidc_rules import Identity, Refusal, authorize_url, check_claims
from koban.core import outbound
from koban.core.clock import Clock

CACHE_SECONDS = 3600.0
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)  # never in a log line or a traceback's locals
    redirect_uri: str
    scopes: str = "openid email profile"
    group_claim: str = "groups"


class OidcError(RuntimeError):
    """The provider could not be asked (down, or an answer that is not OpenID Connect)."""


class OidcRefused(OidcError):
    """The provider answered 4xx: it refuses the request (a code used twice, a wrong secret)."""


async def _json(method: str, url: str, **kw: Any) -> dict[str, Any]:
    try:
        resp = await outbound.request(method, url, **kw)
    except outbound.OutboundError as exc:
        raise OidcError(f"{url}: {exc}") from None
    if 400 <= resp.status < 500:
        raise OidcRefused(f"{resp.status}: {resp.text[:200]}")
    if resp.status != 200:
        raise OidcError(f"{url} answered {resp.status}: {resp.text[:200]}")
    try:
        data = json.loads(resp.body)
    except ValueError:
        raise OidcError(f"{url} did not answer JSON") from None
    if not isinstance(data, dict):
        raise OidcError(f"{url} did not answer a JSON object")
    return data


class OidcClient:
    def __init__(self, settings: OidcSettings, clock: Clock) -> None:
        self.settings, self.clock = settings, clock
        self._meta: tuple[dict[str, Any], float] | None = None
        self._keys: tuple[KeySet, float] | None = None

    async def metadata(self) -> dict[str, Any]:
        now = self.clock.now()
        if self._meta is None or now - self._meta[1] > CACHE_SECONDS:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            meta = await _json("GET", url)
            if meta.get("issuer") != self.settings.issuer:
                raise OidcError(
                    f"the provider calls itself {meta.get('issuer')!r}, not {self.settings.issuer!r}"
                )
            self._meta = (meta, now)
        return self._meta[0]

    async def _keyset(self, refresh: bool = False) -> KeySet:
        now = self.clock.now()
        if refresh or self._keys is None or now - self._keys[1] > CACHE_SECONDS:
            jwks = await _json("GET", (await self.metadata())["jwks_uri"])
            self._keys = (KeySet.import_key_set(jwks), now)  # type: ignore[arg-type]
        return self._keys[0]

    async def authorize_url(self, *, state: str, nonce: str, verifier: str) -> str:
        s = self.settings
        endpoint = (await self.metadata())["authorization_endpoint"]
        return authorize_url(
            endpoint,
            client_id=s.client_id,
            redirect_uri=s.redirect_uri,
            state=state,
            nonce=nonce,
            verifier=verifier,
            scopes=s.scopes,
        )

    async def finish(self, code: str, *, nonce: str, verifier: str) -> Identity | Refusal:
        """Exchange the code, verify the ID token's signature, check its claims."""
        s = self.settings
        basic = base64.b64encode(f"{s.client_id}:{s.client_secret}".encode()).decode()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": s.redirect_uri,
            "code_verifier": verifier,
        }
        try:
            tokens = await _json(
                "POST",
                (await self.metadata())["token_endpoint"],
                headers={
                    "Authorization": f"Basic {basic}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                body=urlencode(form).encode(),
            )
        except OidcRefused as exc:
            return Refusal(f"the provider refused the sign-in code: {exc}")
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            return Refusal("the provider returned no ID token")
        claims = await self._verified_claims(id_token)
        if isinstance(claims, Refusal):
            return claims
        return check_claims(
            claims,
            issuer=s.issuer,
            client_id=s.client_id,
            nonce=nonce,
            now=self.clock.now(),
            group_claim=s.group_claim,
        )

    async def _verified_claims(self, id_token: str) -> dict[str, Any] | Refusal:
        registry = JWSRegistry(algorithms=ALGORITHMS)
        last: Exception = ValueError("no keys")
        for refresh in (False, True):
            try:
                return dict(jwt.decode(id_token, await self._keyset(refresh), registry=registry).claims)
            except (JoseError, ValueError) as exc:
                last = exc
        return Refusal(f"the ID token's signature does not verify: {type(last).__name__}")
