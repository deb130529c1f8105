"""Amazon OpenSearch Service's SigV4 on the wire: a local server checks each request's signature by
recomputing it from what it received, following AWS's published algorithm (canonical request,
string to sign, the derived key), with keys from the config and from AWS's environment chain."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from aiohttp import web

from koban.logs import sigv4
from koban.logs.rule_runner import run_rule
from koban.testing.ports import free_port
from tests.logs.factories import config
from tests.logs.test_rules_opensearch import Raised

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
KEY_ID, SECRET, REGION = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "ap-northeast-1"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def expected_signature(request: web.Request, body: bytes, secret: str) -> tuple[str, dict[str, str]]:
    """AWS SigV4, written from AWS's documentation, independently of botocore."""
    algo, _, rest = request.headers["Authorization"].partition(" ")
    assert algo == "AWS4-HMAC-SHA256"
    parts = dict(p.strip().split("=", 1) for p in rest.split(","))
    signed = parts["SignedHeaders"].split(";")
    _key_id, date, region, service, terminal = parts["Credential"].split("/")
    quoted = lambda s: quote(s, safe="-_.~")  # noqa: E731
    query = "&".join(f"{quoted(k)}={quoted(v)}" for k, v in sorted(parse_qsl(request.query_string, True)))
    headers = "".join(f"{h}:{' '.join(request.headers[h].split())}\n" for h in signed)
    canonical = "\n".join(
        [request.method, quote(request.raw_path.split("?")[0], safe="/~"), query, headers, ";".join(signed),
         hashlib.sha256(body).hexdigest()]
    )  # fmt: skip
    amz_date = request.headers["X-Amz-Date"]
    scope = f"{date}/{region}/{service}/{terminal}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), terminal)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), parts


class SigningCluster:
    """Answers _search like OpenSearch when the signature is right, 403 as AWS does when not."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def search(self, request: web.Request) -> web.Response:
        body = await request.read()
        want, parts = expected_signature(request, body, SECRET)
        self.seen.append({"parts": parts, "headers": dict(request.headers), "path": request.raw_path})
        if parts["Signature"] != want:
            return web.json_response(
                {"message": "The request signature we calculated does not match"}, status=403
            )
        return web.json_response({"hits": {"total": {"value": 3}}, "_shards": {"failed": 0}})

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post("/{index}/_search", self.search)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


def _rule(url: str, **auth: Any):
    cfg = config(
        url,
        log_rules=[
            {
                "id": "r",
                "cluster": "local",
                "service": "shop",
                "index": "logs-*",
                "type": "frequency",
                "num_events": 3,
            }
        ],
    )
    cluster = cfg.log_clusters[0].model_copy(
        update={
            "auth": type(cfg.log_clusters[0].auth).model_validate(
                {"type": "aws_sigv4", "region": REGION} | auth
            )
        }
    )
    return cluster, cfg.log_rules[0]


async def test_a_request_signed_with_configured_keys_passes_aws_signature_check(db):
    server = SigningCluster()
    async with server as url:
        cluster, r = _rule(url, access_key_id=KEY_ID, secret_access_key=SECRET, session_token="tok")
        raised = Raised()
        run = await run_rule(db, cluster, r, NOW, raised)
    assert run.error is None and raised.actions() == [("log_rule:r", "trigger")]
    seen = server.seen[0]
    assert (
        seen["parts"]["Credential"].startswith(f"{KEY_ID}/")
        and f"/{REGION}/es/aws4_request" in seen["parts"]["Credential"]
    )
    assert seen["headers"]["X-Amz-Security-Token"] == "tok"
    assert {"host", "x-amz-date", "x-amz-security-token"} <= set(seen["parts"]["SignedHeaders"].split(";"))
    assert seen["path"].startswith("/logs-*/_search?")  # the wildcard index, signed as sent


async def test_a_wrong_secret_is_refused_and_the_run_says_so(db):
    async with SigningCluster() as url:
        cluster, r = _rule(url, access_key_id=KEY_ID, secret_access_key="not-the-secret")
        run = await run_rule(db, cluster, r, NOW, Raised())
    assert run.error is not None and "HTTP 403" in run.error


async def test_keys_come_from_aws_environment_chain_when_the_config_has_none(db, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    sigv4._chain.cache_clear()
    try:
        async with SigningCluster() as url:
            cluster, r = _rule(url, service="aoss")
            raised = Raised()
            run = await run_rule(db, cluster, r, NOW, raised)
        assert run.error is None and raised.actions() == [("log_rule:r", "trigger")]
    finally:
        sigv4._chain.cache_clear()


def test_sigv4_needs_a_region():
    with pytest.raises(ValueError, match="region"):
        _rule("http://127.0.0.1:9", region="")
