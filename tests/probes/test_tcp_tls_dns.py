from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import dns.message
import dns.rcode
import dns.rrset
import pytest

from koban.probes import (
    Conditions,
    DnsProbeConfig,
    TcpProbeConfig,
    TlsProbeConfig,
    probe_dns,
    probe_tcp,
    probe_tls,
)
from tests.support.server_fixtures import LEAF_EXPIRY
from tests.support.servers import HttpServer


@pytest.fixture
async def banner_server() -> AsyncIterator[int]:
    """Greets like an SMTP server, answers PING with PONG."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 ready\r\n")
        try:
            line = await reader.readline()
            if line.strip() == b"PING":
                writer.write(b"PONG\r\n")
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


class _DnsServer(asyncio.DatagramProtocol):
    RECORDS = {("up.test.", "A"): ["10.0.0.1", "10.0.0.2"]}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        q = query.question[0]
        key = (q.name.to_text(), dns.rdatatype.to_text(q.rdtype))
        if key in self.RECORDS:
            reply.answer.append(dns.rrset.from_text_list(q.name, 60, "IN", key[1], self.RECORDS[key]))
        else:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(reply.to_wire(), addr)  # type: ignore[attr-defined]


@pytest.fixture
async def dns_port() -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_DnsServer, local_addr=("127.0.0.1", 0))
    yield transport.get_extra_info("sockname")[1]
    transport.close()


async def test_tcp_connect_succeeds_on_open_port(banner_server: int) -> None:
    r = await probe_tcp(TcpProbeConfig("127.0.0.1", banner_server, timeout=2))
    assert r.success and r.connected and r.phases.connect > 0


async def test_tcp_send_and_expect(banner_server: int) -> None:
    r = await probe_tcp(
        TcpProbeConfig("127.0.0.1", banner_server, send=b"PING\r\n", expect="PONG", timeout=2)
    )
    assert r.success, r.error
    assert b"PONG" in r.body


async def test_tcp_unexpected_reply_fails_with_what_came(banner_server: int) -> None:
    r = await probe_tcp(
        TcpProbeConfig("127.0.0.1", banner_server, send=b"HELLO\r\n", expect="PONG", timeout=2)
    )
    assert not r.success
    assert r.error == "reply did not match 'PONG' (got b'220 ready\\r\\n')"


async def test_tcp_expect_times_out_when_server_stays_silent(banner_server: int) -> None:
    r = await probe_tcp(TcpProbeConfig("127.0.0.1", banner_server, expect="NEVER", timeout=0.3, send=b""))
    assert r.error in (
        "timed out after 0.3s during processing waiting for 'NEVER'",
        "reply did not match 'NEVER' (got b'220 ready\\r\\n')",  # server closed first
    )


async def test_tcp_closed_port_is_refused(closed_port: int) -> None:
    r = await probe_tcp(TcpProbeConfig("127.0.0.1", closed_port, timeout=2))
    assert r.error == f"connection refused by 127.0.0.1:{closed_port}"
    assert not r.connected


async def test_tcp_conditions_apply(banner_server: int) -> None:
    cfg = TcpProbeConfig(
        "127.0.0.1",
        banner_server,
        expect="220",
        timeout=2,
        conditions=Conditions.parse(["[CONNECTED] == true", "[BODY] == pat(220*)"]),
    )
    r = await probe_tcp(cfg)
    assert r.success, r.error


async def test_tls_expiry_passes_when_valid_long_enough(tls_server: HttpServer, ca_file: str) -> None:
    r = await probe_tls(
        TlsProbeConfig("localhost", tls_server.port, ca_file=ca_file, min_valid=86400, timeout=2)
    )
    assert r.success, r.error
    assert r.kind == "tls"
    assert r.cert is not None and r.cert.leaf_expiry == LEAF_EXPIRY
    assert r.phases.tls > 0


async def test_tls_expiry_fails_when_expiring_soon(tls_server: HttpServer, ca_file: str) -> None:
    r = await probe_tls(TlsProbeConfig("localhost", tls_server.port, ca_file=ca_file, timeout=2))
    assert not r.success
    assert r.error.startswith("leaf certificate for localhost expires in 5.0 days")
    assert r.error.endswith("required: valid for 14 more days")


async def test_tls_untrusted_fails_verification(tls_server: HttpServer) -> None:
    r = await probe_tls(TlsProbeConfig("localhost", tls_server.port, timeout=2))
    assert r.error.startswith("TLS certificate verification failed")


async def test_tls_against_plain_server_that_waits_times_out_in_tls_phase(http_server: HttpServer) -> None:
    r = await probe_tls(TlsProbeConfig("127.0.0.1", http_server.port, verify_tls=False, timeout=0.3))
    assert r.error == "timed out after 0.3s during tls"


async def test_tls_against_plain_server_that_answers_fails_handshake(banner_server: int) -> None:
    r = await probe_tls(TlsProbeConfig("127.0.0.1", banner_server, verify_tls=False, timeout=2))
    assert r.error.startswith(("TLS handshake failed", "connection closed")), r.error


async def test_dns_answers_and_rcode(dns_port: int) -> None:
    cfg = DnsProbeConfig("up.test", "127.0.0.1", port=dns_port, expect_answers=("10.0.0.2",), timeout=2)
    r = await probe_dns(cfg)
    assert r.success, r.error
    assert r.dns_rcode == "NOERROR"
    assert set(r.dns_answers) == {"10.0.0.1", "10.0.0.2"}
    assert r.phases.resolve > 0


async def test_dns_missing_answer_fails(dns_port: int) -> None:
    cfg = DnsProbeConfig("up.test", "127.0.0.1", port=dns_port, expect_answers=("10.9.9.9",), timeout=2)
    r = await probe_dns(cfg)
    assert not r.success
    assert r.error.startswith("A up.test: missing 10.9.9.9 (answers: 10.0.0.")


async def test_dns_nxdomain_fails_unless_expected(dns_port: int) -> None:
    r = await probe_dns(DnsProbeConfig("gone.test", "127.0.0.1", port=dns_port, timeout=2))
    assert r.error == "rcode NXDOMAIN, expected NOERROR"
    r = await probe_dns(
        DnsProbeConfig("gone.test", "127.0.0.1", port=dns_port, expect_rcode="NXDOMAIN", timeout=2)
    )
    assert r.success


async def test_dns_silent_server_times_out(closed_port: int) -> None:
    r = await probe_dns(DnsProbeConfig("up.test", "127.0.0.1", port=closed_port, timeout=0.3))
    assert not r.success
    assert r.error.startswith(f"no answer from 127.0.0.1:{closed_port}") or "refused" in r.error


async def test_dns_conditions(dns_port: int) -> None:
    conditions = Conditions.parse(["[DNS_RCODE] == NOERROR", "[BODY] == pat(*10.0.0.1*)"])
    r = await probe_dns(
        DnsProbeConfig("up.test", "127.0.0.1", port=dns_port, timeout=2, conditions=conditions)
    )
    assert r.success, r.error


def test_dns_config_rejects_unknown_type() -> None:
    with pytest.raises(ValueError, match="unknown DNS query type 'AAA'"):
        DnsProbeConfig("x", "127.0.0.1", query_type="AAA")
