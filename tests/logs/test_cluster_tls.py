"""A cluster behind TLS: its ``ca_file`` (a private CA, made here with ``cryptography``) is trusted,
a certificate no CA vouches for is refused and the run says why, and ``verify_tls: false`` skips the
check. Against a local HTTPS endpoint answering ``_search`` as OpenSearch does."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from koban.config.model_logs import LogCluster
from koban.logs.client import LogQueryError, conn_of, search
from koban.testing.ports import free_port

ANSWER = {"took": 1, "timed_out": False, "_shards": {"failed": 0}, "hits": {"total": {"value": 7}}}


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key: Any, issuer: str, signer: Any, *, ca: bool) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(signer, hashes.SHA256())


def _pem(obj: Any) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, and a server certificate for 127.0.0.1 it signed."""
    d = tmp_path_factory.mktemp("pki")
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert("koban test CA", ca_key, "koban test CA", ca_key, ca=True)
    leaf = _cert("search.local", leaf_key, "koban test CA", ca_key, ca=False)
    files = {"ca": d / "ca.pem", "cert": d / "server.pem", "key": d / "server.key"}
    files["ca"].write_bytes(_pem(ca))
    files["cert"].write_bytes(_pem(leaf) + _pem(ca))
    files["key"].write_bytes(_pem(leaf_key))
    return files


@pytest.fixture
async def https_url(pki: dict[str, Path]) -> AsyncIterator[str]:
    async def _search(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(ANSWER)

    app = web.Application()
    app.router.add_post("/{index}/_search", _search)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki["cert"], pki["key"])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=ctx).start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def cluster(url: str, **kw: Any) -> LogCluster:
    return LogCluster.model_validate({"id": "secure", "url": url} | kw)


async def test_the_clusters_own_ca_file_is_trusted(https_url, pki):
    answer = await search(conn_of(cluster(https_url, ca_file=str(pki["ca"]))), "logs-*", {"size": 0})
    assert answer["hits"]["total"]["value"] == 7


async def test_a_certificate_no_trusted_ca_signed_is_refused_and_the_error_says_so(https_url):
    with pytest.raises(LogQueryError, match="(?i)certificate verify failed"):
        await search(conn_of(cluster(https_url)), "logs-*", {"size": 0})


async def test_verify_tls_false_skips_the_check(https_url):
    answer = await search(conn_of(cluster(https_url, verify_tls=False)), "logs-*", {"size": 0})
    assert answer["hits"]["total"]["value"] == 7


async def test_a_ca_file_that_cannot_be_read_fails_the_query_with_its_path(https_url, tmp_path):
    missing = tmp_path / "nope.pem"
    with pytest.raises(LogQueryError, match="cannot use ca_file .*nope.pem"):
        await search(conn_of(cluster(https_url, ca_file=str(missing))), "logs-*", {"size": 0})
