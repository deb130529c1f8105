"""Fixtures for probe targets: an HTTP server, a TLS one with a two-cert chain, a closed port.

Shared by tests/probes, tests/monitoring, tests/api and tests/cli through their conftest.py."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import trustme

from tests.support.servers import HttpServer


@pytest.fixture
async def http_server() -> AsyncIterator[HttpServer]:
    server = await HttpServer().start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


LEAF_EXPIRY = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)


@pytest.fixture(scope="session")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    """Leaf issued by an intermediate (so the presented chain has two certs), expiring in 5 days."""
    intermediate = ca.create_child_ca()
    leaf = intermediate.issue_cert("localhost", "127.0.0.1", not_after=LEAF_EXPIRY)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(ctx)
    return ctx


@pytest.fixture
async def tls_server(server_context: ssl.SSLContext) -> AsyncIterator[HttpServer]:
    server = await HttpServer(ssl_context=server_context).start()
    yield server
    await server.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port nothing listens on: bound then released (connect gets RST on loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield port
