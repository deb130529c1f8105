"""Oversized request heads get 431 and a closed connection, on the direct ingest path and on
uvicorn's ASGI path alike; a large body with a small head is not a large head."""

from __future__ import annotations

import select
from collections.abc import Iterator
from urllib.parse import urlsplit

import orjson
import pytest

from koban.ingest.header_limits import MAX_FIELD, MAX_HEAD
from tests.ingest import support as s
from tests.ingest.live import live_koban
from tests.ingest.test_direct_path import Conn, post

KEY = s.key_for("prometheus")
ALERT = orjson.dumps([{"labels": {"alertname": "Big", "instance": "a"}}])


@pytest.fixture
def addr(db_url, tmp_path) -> Iterator[tuple[str, int]]:
    with live_koban(db_url, s.edge_config(), tmp_path) as url:
        parts = urlsplit(url)
        yield parts.hostname or "127.0.0.1", parts.port or 80


@pytest.fixture
def conn(addr) -> Iterator[Conn]:
    c = Conn(addr)
    yield c
    c.close()


def _closed(c: Conn) -> bool:
    try:
        return c.sock.recv(1) == b""
    except (TimeoutError, ConnectionResetError):
        return True


@pytest.mark.parametrize("path", ["/api/v2/alerts", "/api/v1/incidents"])  # direct path, ASGI path
def test_one_huge_header_is_refused_before_it_is_all_read(conn, path):
    c = conn
    c.send(f"POST {path} HTTP/1.1\r\nHost: koban\r\nX-Big: ".encode())
    # A megabyte, sent in pieces until the answer arrives: the server answers and closes while it
    # arrives, and writing on after its close raised EPIPE here before the answer was read.
    for _ in range(64):
        if select.select([c.sock], [], [], 0)[0]:
            break
        try:
            c.send(b"a" * (16 * 1024))
        except (BrokenPipeError, ConnectionResetError):
            break
    status, headers, body = c.response()
    assert status == 431 and headers["connection"] == "close" and b"passed" in body
    assert _closed(c)


@pytest.mark.parametrize("path", ["/api/v2/alerts", "/api/v1/incidents"])
def test_a_thousand_headers_of_a_kilobyte_are_refused(conn, path):
    c = conn
    many = [f"X-H{i}: {'v' * 1000}" for i in range(1000)]
    c.send(post(path, ALERT, KEY, *many))
    status, _, _ = c.response()
    assert status == 431 and _closed(c)


def test_one_field_over_its_limit_is_refused_even_when_the_head_is_small(conn):
    c = conn
    c.send(post("/api/v2/alerts", ALERT, KEY, f"X-Long: {'v' * (MAX_FIELD + 1)}"))
    status, _, body = c.response()
    assert status == 431 and b"'x-long'" in body.lower()


def test_a_head_under_the_limits_and_a_large_body_pass(conn):
    c = conn
    headers = [f"X-H{i}: {'v' * 500}" for i in range(MAX_HEAD // 1024)]  # ~half the head budget
    big = orjson.dumps([{"labels": {"alertname": "Big", "instance": str(i)}} for i in range(3000)])
    assert len(big) > 64 * 1024
    c.send(post("/api/v2/alerts", big, KEY, *headers))
    status, _, _ = c.response()
    assert status == 202
    c.send(post("/api/v2/alerts", ALERT, KEY))  # and the connection is still usable
    assert c.response()[0] == 202
