"""``koban serve``'s direct path for alert POSTs (ingest/http_protocol.py), over raw sockets.

The parser callbacks answer ingest POSTs without ASGI; these check the HTTP around it: several
requests on one connection, pipelined requests answered in order (direct and ASGI ones mixed),
chunked bodies, 413, ``Connection: close``, ``Expect: 100-continue``, HTTP/1.0, and that other
paths and methods still get the app's answers.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import orjson
import pytest

from koban.core.clock import FakeClock
from koban.ingest.http_protocol import KobanHttpProtocol
from tests.ingest import support as s
from tests.ingest.live import live_koban

KEY = s.key_for("prometheus")
ALERT = orjson.dumps([{"labels": {"alertname": "Direct", "instance": "a"}}])
TWO = orjson.dumps([{"labels": {"alertname": "Direct", "instance": i}} for i in ("a", "b")])


@pytest.fixture
def addr(db_url, tmp_path) -> Iterator[tuple[str, int]]:
    with live_koban(db_url, s.edge_config(), tmp_path) as url:
        parts = urlsplit(url)
        yield parts.hostname or "127.0.0.1", parts.port or 80


def post(path: str, body: bytes, key: str | None = KEY, *extra: str) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: koban", "Content-Type: application/json"]
    if key:
        head.append(f"Authorization: Bearer {key}")
    head += [*extra, f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunked(path: str, body: bytes, size: int, key: str = KEY) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: koban\r\nAuthorization: Bearer {key}\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n"
    out = head.encode()
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


class Conn:
    def __init__(self, addr: tuple[str, int]) -> None:
        self.sock = socket.create_connection(addr, timeout=15)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def response(self, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), f"connection closed; got {self.buf!r}"
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head_only else int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            assert self._fill(), "connection closed mid-body"
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def closed(self) -> bool:
        try:
            return not self._fill() and not self.buf
        except (ConnectionResetError, TimeoutError):
            return True

    def close(self) -> None:
        self.sock.close()


def test_keep_alive_answers_several_requests_on_one_connection(addr, monkeypatch):
    committed = []
    original = KobanHttpProtocol._committed
    monkeypatch.setattr(
        KobanHttpProtocol, "_committed", lambda self, *a: committed.append(1) or original(self, *a)
    )
    c = Conn(addr)
    try:
        for body, alerts in ((ALERT, 1), (TWO, 2), (ALERT, 1)):
            c.send(post("/api/v2/alerts", body))
            status, headers, got = c.response()
            assert status == 202, got
            assert orjson.loads(got) == {"status": "accepted", "alerts": alerts}
            assert headers["content-type"] == "application/json" and "date" in headers
            assert "connection" not in headers
        assert len(committed) == 3  # answered by the direct path, after the inbox commit
    finally:
        c.close()


def test_pipelined_requests_are_answered_in_order_direct_and_asgi_mixed(addr):
    c = Conn(addr)
    try:
        c.send(
            post("/api/v2/alerts", ALERT)
            + post("/api/v2/alerts", ALERT, "nope")
            + b"GET /healthz HTTP/1.1\r\nHost: koban\r\n\r\n"
            + post(f"/api/v1/ingest/{KEY}/api/v2/alerts", TWO, None)
            + post("/api/v2/alerts", b"[{not json")
            + post("/api/v2/alerts", TWO)
        )
        answers = [c.response() for _ in range(6)]
        assert [a[0] for a in answers] == [202, 401, 200, 202, 400, 202]
        assert orjson.loads(answers[0][2])["alerts"] == 1
        assert orjson.loads(answers[1][2])["detail"] == "unknown integration key"
        assert orjson.loads(answers[3][2])["alerts"] == 2
        assert orjson.loads(answers[4][2])["error"]
        assert orjson.loads(answers[5][2])["alerts"] == 2
    finally:
        c.close()


def test_a_chunked_body_is_read_whole(addr):
    c = Conn(addr)
    try:
        c.send(chunked("/api/v2/alerts", TWO, 7))
        status, _, got = c.response()
        assert status == 202 and orjson.loads(got)["alerts"] == 2
        c.send(post("/api/v2/alerts", ALERT))  # the connection goes on
        assert c.response()[0] == 202
    finally:
        c.close()


def test_oversize_bodies_are_413_declared_or_chunked(addr):
    big = b"[" + b"1," * 600_000 + b"1]"
    c = Conn(addr)
    try:
        c.send(chunked("/api/v2/alerts", big, 65536))
        status, _, got = c.response()
        assert status == 413 and b"limit" in got
        c.send(post("/api/v2/alerts", ALERT))
        assert c.response()[0] == 202
    finally:
        c.close()
    c = Conn(addr)
    try:  # declared too large: answered before the body is sent
        c.send(b"POST /api/v2/alerts HTTP/1.1\r\nHost: k\r\nContent-Length: 9999999\r\n")
        c.send(f"Authorization: Bearer {KEY}\r\n\r\n".encode())
        status, _, got = c.response()
        assert status == 413 and b"limit" in got
    finally:
        c.close()


def test_bad_key_no_key_and_bad_json_get_the_apps_4xx(addr):
    c = Conn(addr)
    try:
        c.send(post("/api/v2/alerts", ALERT, "wrong"))
        assert c.response()[:3:2] == (
            401,
            b'{"detail":"unknown integration key","error":"unknown integration key"}',
        )
        c.send(post("/api/v2/alerts", ALERT, None))
        status, _, got = c.response()
        assert status == 401 and b"no integration key" in got
        c.send(post("/api/v2/alerts", b"{"))
        status, _, got = c.response()
        assert status == 400 and orjson.loads(got)["error"]
        c.send(post("/api/v2/alerts", b'[{"labels": "x"}]'))
        status, _, got = c.response()
        assert 400 <= status < 500 and orjson.loads(got)["error"]
    finally:
        c.close()


def test_connection_close_is_honoured(addr):
    c = Conn(addr)
    try:
        c.send(post("/api/v2/alerts", ALERT, KEY, "Connection: close"))
        status, headers, _ = c.response()
        assert status == 202 and headers["connection"] == "close"
        assert c.closed()
    finally:
        c.close()


def test_expect_continue_and_http_10_take_uvicorns_path(addr):
    c = Conn(addr)
    try:
        head = (
            f"POST /api/v2/alerts HTTP/1.1\r\nHost: k\r\nAuthorization: Bearer {KEY}\r\n"
            f"Expect: 100-continue\r\nContent-Length: {len(ALERT)}\r\n\r\n"
        )
        c.send(head.encode())
        assert c.response()[0] == 100
        c.send(ALERT)
        assert c.response()[0] == 202
    finally:
        c.close()
    c = Conn(addr)
    try:
        c.send(post("/api/v2/alerts", ALERT).replace(b"HTTP/1.1", b"HTTP/1.0", 1))
        status, _, got = c.response()
        assert status == 202 and orjson.loads(got)["alerts"] == 1
    finally:
        c.close()


def test_other_paths_and_methods_are_unaffected(addr):
    c = Conn(addr)
    try:
        c.send(b"GET /api/v2/alerts HTTP/1.1\r\nHost: k\r\n\r\n")
        assert c.response()[0] == 405
        c.send(b"HEAD /api/v2/alerts HTTP/1.1\r\nHost: k\r\n\r\n")
        assert c.response(head_only=True)[0] == 405
        c.send(b"GET /healthz HTTP/1.1\r\nHost: k\r\n\r\n")
        assert c.response()[0] == 200
        c.send(post("/api/v2/alertsX", ALERT))
        assert c.response()[0] == 404
        c.send(post("/api/v2/alerts?x=1", ALERT))  # a query string is fine on the direct path
        assert c.response()[0] == 202
    finally:
        c.close()


def test_rate_limits_answer_429_with_retry_after_on_the_direct_path(db_url, tmp_path):
    """Refused in the commit's transaction, then from memory; a fixed clock keeps one minute."""
    cfg = s.edge_config(limits={"per_minute": 3})
    with live_koban(db_url, cfg, tmp_path, clock=FakeClock(1_800_000_000.0 + 30)) as url:
        parts = urlsplit(url)
        c = Conn((parts.hostname or "127.0.0.1", parts.port or 80))
        try:
            c.send(b"".join(post("/api/v2/alerts", ALERT) for _ in range(5)))
            answers = [c.response() for _ in range(5)]
            assert [a[0] for a in answers] == [202, 202, 202, 429, 429]
            assert all(int(a[1]["retry-after"]) > 0 for a in answers[3:])
            assert orjson.loads(answers[3][2])["error"]
            c.send(post("/api/v2/alerts", ALERT))
            assert c.response()[0] == 429
        finally:
            c.close()
