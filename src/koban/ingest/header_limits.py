"""Request heads of bounded size: 431 instead of buffering whatever a client sends.

nginx's defaults are the model (``large_client_header_buffers 4 8k``): one field (name and value, or
the request line) at most 8 KiB, the whole head at most 32 KiB. A head still arriving past the
total is cut at once (``data_received``), so a client cannot make koban buffer a megabyte before
refusing it; an over-long field is found when the parser hands it over (``on_header``). Both
answer 431 and close the connection. Every request goes through this protocol, the direct ingest
path and uvicorn's ASGI path alike.
"""

from __future__ import annotations

from typing import Any

import orjson

from koban.ingest.http_protocol import KobanHttpProtocol
from koban.ingest.routes import Ingest, problem

MAX_FIELD = 8 * 1024
MAX_HEAD = 32 * 1024


def _answer_431(transport: Any, why: str) -> None:
    body = orjson.dumps(problem(f"request header fields too large: {why}"))  # the one error shape
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode()
    transport.write(head + body)
    transport.close()


class HeaderLimitedProtocol(KobanHttpProtocol):
    _in_head = True  # bytes arriving now belong to a request's head
    _head_bytes = 0  # of the current head, counted in whole chunks while it is incomplete
    _fields_bytes = 0  # of the current head, counted exactly field by field
    _too_large = ""

    def data_received(self, data: bytes) -> None:
        if self._too_large:
            return  # answered and closing
        was_in_head = self._in_head
        super().data_received(data)
        if was_in_head and self._in_head and not self._too_large:
            # The whole chunk went into a head that is still not complete.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self._refuse(f"the request head passed {MAX_HEAD} bytes")

    # These run for every request on the ingest hot path: plain arithmetic, and words only when
    # refusing (formatting a description per header cost 30% of 1-alert-per-request throughput).

    def on_message_begin(self) -> None:
        self._in_head, self._head_bytes, self._fields_bytes = True, 0, 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        n = len(url)
        self._fields_bytes += n
        if n > MAX_FIELD or self._fields_bytes > MAX_HEAD:
            self._over(n, b"")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        n = len(name) + len(value)
        self._fields_bytes += n
        if n > MAX_FIELD or self._fields_bytes > MAX_HEAD:
            self._over(n, name)
        if not self._too_large:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if not self._too_large:  # else answered already
            super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        if not self._too_large:
            super().on_message_complete()

    def _over(self, n: int, name: bytes) -> None:
        """A field over its limit (``name`` empty: the request line), or the head over its total."""
        if self._too_large:
            return
        what = f"header {name[:64].decode('latin-1')!r}" if name else "the request line"
        if n > MAX_FIELD:
            self._refuse(f"{what} is over {MAX_FIELD} bytes")
        else:
            self._refuse(f"the headers pass {MAX_HEAD} bytes")

    def _refuse(self, why: str) -> None:
        """Answer 431 once and close; the parser may still call back for the rest of this chunk."""
        self._too_large = why
        _answer_431(self.transport, why)


def limited_protocol(ingest: Ingest) -> type[HeaderLimitedProtocol]:
    """The protocol class for uvicorn's ``http=``: head limits, and ingest POSTs answered directly."""
    return type("KobanHttpProtocol", (HeaderLimitedProtocol,), {"ingest": ingest})
