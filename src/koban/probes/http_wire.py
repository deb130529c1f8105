"""HTTP/1.1 on the wire for probes: build one request, parse one response, incrementally.

An ``asyncio.Protocol`` rather than streams: it is the leanest path through the event loop (no
StreamReader buffers, no per-read awaits) and ``data_received`` is where the first response byte is
timestamped, which is the boundary between blackbox's ``processing`` and ``transfer`` phases.
Handles Content-Length, chunked, read-until-close, bodiless responses and interim 1xx responses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from koban.probes.net import ProbeError

USER_AGENT = "koban-probe/0.1"
_MAX_HEAD = 64 * 1024

# Parser states.
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILER, _UNTIL_CLOSE, _DONE = range(8)


def build_request(
    method: str, host_header: str, target: str, headers: Mapping[str, str], body: bytes
) -> bytes:
    """Request bytes; ``Connection: close`` because every probe uses a fresh connection, like blackbox."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}"]
    given = {k.lower() for k in headers}
    if "user-agent" not in given:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "accept" not in given:
        lines.append("Accept: */*")
    lines.append("Connection: close")
    lines.extend(f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "connection"))
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ResponseProtocol(asyncio.Protocol):
    """Reads exactly one response; ``done`` resolves when the body is complete (or fails with why not)."""

    def __init__(self, body_limit: int, head_request: bool) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.BaseTransport | None = None
        self.first_byte_ns = 0
        self.last_byte_ns = 0
        self.status = 0
        self.version = ""
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.body_length = 0
        self._limit = body_limit
        self._head_request = head_request
        self._buf = bytearray()
        self._state = _HEAD
        self._remaining = 0

    # -- asyncio callbacks -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.first_byte_ns:
            self.first_byte_ns = time.perf_counter_ns()
        if self._state == _DONE:
            return
        self._buf += data
        try:
            self._advance()
        except ProbeError as exc:
            self._fail(str(exc))

    def eof_received(self) -> bool | None:
        return None  # let the transport close; connection_lost decides if that ended the body

    def connection_lost(self, exc: Exception | None) -> None:
        if self._state == _UNTIL_CLOSE:
            self._finish()
        elif self._state != _DONE:
            where = "before any response" if not self.first_byte_ns else "before the response was complete"
            reason = f": {exc}" if exc else ""
            self._fail(f"connection closed by server {where}{reason}")

    # -- parsing -----------------------------------------------------------
    def _advance(self) -> None:
        buf = self._buf
        while True:
            state = self._state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > _MAX_HEAD:
                        raise ProbeError("response headers larger than 64 KiB")
                    return
                head = bytes(buf[:end])
                del buf[: end + 4]
                self._parse_head(head)
            elif state == _LENGTH:
                take = min(self._remaining, len(buf))
                self._take(take)
                self._remaining -= take
                if self._remaining:
                    return
                self._finish()
            elif state == _UNTIL_CLOSE:
                self._take(len(buf))
                return
            elif state == _CHUNK_SIZE:
                end = buf.find(b"\r\n")
                if end < 0:
                    return
                line = bytes(buf[:end]).split(b";", 1)[0].strip()
                del buf[: end + 2]
                try:
                    size = int(line, 16)
                except ValueError:
                    raise ProbeError(f"bad chunk size {line[:20]!r}") from None
                self._remaining = size
                self._state = _CHUNK_DATA if size else _TRAILER
            elif state == _CHUNK_DATA:
                take = min(self._remaining, len(buf))
                self._take(take)
                self._remaining -= take
                if self._remaining:
                    return
                self._state = _CHUNK_CRLF
            elif state == _CHUNK_CRLF:
                if len(buf) < 2:
                    return
                if buf[:2] != b"\r\n":
                    raise ProbeError("chunk not followed by CRLF")
                del buf[:2]
                self._state = _CHUNK_SIZE
            elif state == _TRAILER:
                end = buf.find(b"\r\n")
                if end < 0:
                    return
                del buf[: end + 2]
                if end == 0:
                    self._finish()
            else:
                return

    def _parse_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ProbeError(f"not an HTTP response: {lines[0][:60]!r}")
        status = int(parts[1])
        if 100 <= status < 200 and status != 101:
            return  # interim response (100 Continue, 103 Early Hints): the real one follows
        self.version, self.status = parts[0][5:], status
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                continue
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.headers = headers
        if self._head_request or status in (204, 304):
            self._finish()
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._state = _CHUNK_SIZE
        elif "content-length" in headers:
            try:
                self._remaining = int(headers["content-length"].split(",")[0])
            except ValueError:
                raise ProbeError(f"bad Content-Length {headers['content-length']!r}") from None
            self._state = _LENGTH
            if not self._remaining:
                self._finish()
        else:
            self._state = _UNTIL_CLOSE

    def _take(self, n: int) -> None:
        if not n:
            return
        self.body_length += n
        room = self._limit - len(self.body)
        if room > 0:
            self.body += self._buf[: min(n, room)]
        del self._buf[:n]

    def _finish(self) -> None:
        self._state = _DONE
        self.last_byte_ns = time.perf_counter_ns()
        if not self.done.done():
            self.done.set_result(None)

    def _fail(self, message: str) -> None:
        self._state = _DONE
        if not self.done.done():
            self.done.set_exception(ProbeError(message))
            # Mark it retrieved: after a failed TLS handshake nobody awaits ``done`` (the handshake
            # error is what gets reported), and asyncio would log "exception was never retrieved".
            self.done.exception()
