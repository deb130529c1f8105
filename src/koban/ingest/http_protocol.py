"""uvicorn's httptools protocol: one socket write per response, and alert POSTs answered directly.

uvicorn writes a response's head (``http.response.start``) and its body as two ``transport.write``
calls; with ``TCP_NODELAY`` each is its own ``send()`` and packet, and a client waiting for the
answer may be woken twice. Here the writes made in one event-loop iteration are joined and sent at
the end of it: the same bytes in the same order, one syscall. At one alert per request this cut
``koban serve``'s CPU per request by ~15% (A/B, alternating runs, docs/benchmarks.md).

Only the write path changes; every other transport call goes to the real transport, and ``close``
sends what is pending first (``abort`` drops it, as it drops the transport's own buffer).

The direct path (``KobanHttpProtocol``): at one alert per request, uvicorn's per-request ASGI
machinery (scope dicts, a ``RequestResponseCycle`` and its task, receive/send messages, events)
cost more than the alert. A plain ``POST`` to an ingest path (``ingest/edge.ingest_params``)
over HTTP/1.1 is instead collected by the parser callbacks and, once the whole body is in, handed
to ``Ingest.direct``: the key, the size, the JSON and the source's cheap check, then the inbox
commit's future, whose callback writes the response bytes. The 2xx still goes out only after the
commit. Anything unusual takes uvicorn's own path from the headers on (``Expect: 100-continue``,
HTTP/1.0, upgrades, a Content-Length over the limit so the 413 comes before the body, a ``%`` in
the path, other methods, a root path, a concurrency limit), and anything
``Ingest.direct`` will not decide cheaply (an error, another source, rate limits refused in the
batch) runs ``Ingest.handle`` in a task, so the answers stay those of one implementation. Keep-alive,
``Connection: close`` and pipelining go through uvicorn's own bookkeeping (``self.cycle``,
``self.pipeline``, ``on_response_complete``): a direct request is one more kind of cycle in it.

All of this leans on uvicorn internals (``HttpToolsProtocol``'s callbacks and per-connection state,
``STATUS_LINE``, what it reads of a cycle), which change without notice between minor versions:
pyproject.toml bounds uvicorn to the minor version it is tested with, and
tests/ingest/test_uvicorn_private_api.py fails, naming the installed version, when a member moves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from koban.ingest.edge import ingest_params
from koban.ingest.routes import Answer, Ingest, Pending, encode, failed

log = logging.getLogger("koban.ingest")


class CorkedTransport:
    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def write_now(self, data: bytes) -> None:
        """Send ``data`` at once, after anything pending (a response made outside a send cycle)."""
        if self._pending:
            self._pending.append(data)
            self.flush()
        elif not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> Any:  # everything else: the real transport
        return getattr(self._transport, name)


class CorkedHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = CorkedTransport(transport, self.loop)  # type: ignore[assignment]


class DirectCycle:
    """One ingest POST on the direct path: what uvicorn's bookkeeping reads of a cycle, plus the body."""

    __slots__ = (
        "path",
        "params",
        "headers",
        "query",
        "chunks",
        "size",
        "limit",
        "keep_alive",
        "started",
        "complete",
        "response_complete",
        "disconnected",
        "message_event",
    )

    def __init__(
        self,
        path: str,
        params: Mapping[str, str],
        headers: list[tuple[bytes, bytes]],
        query: bytes,
        limit: int,
        keep_alive: bool,
    ) -> None:
        self.path, self.params, self.headers, self.query = path, params, headers, query
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.keep_alive = keep_alive
        self.started = self.complete = self.response_complete = self.disconnected = False
        self.message_event = self  # connection_lost() sets it; nothing waits on it here

    def set(self) -> None:
        pass

    def add(self, chunk: bytes) -> None:
        # Past the limit nothing more is kept: what is held is already over it, so handle()
        # answers 413 (or 401 first, as for any request) without the rest.
        if self.size <= self.limit:
            self.chunks.append(chunk)
        self.size += len(chunk)

    def body(self) -> bytes:
        chunks = self.chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class KobanHttpProtocol(CorkedHttpToolsProtocol):
    """Corked writes, and the ingest POSTs answered without ASGI (module docstring)."""

    ingest: Ingest | None = None  # set by ``direct_protocol``
    if TYPE_CHECKING:
        # uvicorn declares a RequestResponseCycle, but it is None before the first request (uvicorn
        # ignores that itself) and, here, a DirectCycle on the direct path.
        cycle: RequestResponseCycle | DirectCycle | None  # type: ignore[assignment]

    def on_message_begin(self) -> None:
        # uvicorn builds the ASGI scope here; only a request that takes its path needs one
        # (``_asgi_scope``), so the direct path skips it.
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def _asgi_scope(self) -> None:
        url, headers, expect = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()  # uvicorn's scope, exactly; it resets what the parser filled
        self.url, self.headers, self.expect_100_continue = url, headers, expect
        self.scope["headers"] = headers

    def on_headers_complete(self) -> None:
        cycle = self._direct_cycle()
        if cycle is None:
            self._asgi_scope()
            super().on_headers_complete()
            return
        existing = self.cycle
        self.cycle = cycle
        if existing is None or existing.response_complete:
            cycle.started = True
        else:  # pipelined behind an unanswered request: uvicorn's queue keeps the order
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, None))  # type: ignore[arg-type]

    def _direct_cycle(self) -> DirectCycle | None:
        ingest = self.ingest
        parser = self.parser
        if (
            ingest is None
            or parser.get_method() != b"POST"
            or self.expect_100_continue
            or parser.get_http_version() != "1.1"
            or parser.should_upgrade()
            or self.root_path
            or self.limit_concurrency is not None
            or not self.url.startswith(b"/")
        ):
            return None
        raw, _, query = self.url.partition(b"?")
        if b"%" in raw or b"#" in query:
            return None
        path = raw.decode("ascii", "replace")
        params = ingest_params(path)
        if params is None:
            return None
        limit = ingest.deps.settings.max_body_bytes
        declared = _declared_length(self.headers)
        if declared is not None and declared > limit:
            return None  # uvicorn's path answers 413 before the body arrives
        return DirectCycle(path, params, self.headers, query, limit, parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if type(cycle) is DirectCycle:
            cycle.add(body)
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if type(cycle) is DirectCycle:
            cycle.complete = True
            if cycle.started:
                self._run_direct(cycle)
        else:
            super().on_message_complete()

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if type(cycle) is DirectCycle:  # its turn in the pipeline
            cycle.started = True
            if cycle.complete:
                self._run_direct(cycle)
        else:
            super()._start_asgi_task(cycle, app)

    def _run_direct(self, cycle: DirectCycle) -> None:
        ingest = self.ingest
        assert ingest is not None
        body = cycle.body()
        try:
            out = ingest.direct(cycle.params, cycle.headers, body)
        except Exception as exc:
            self._respond(cycle, failed(exc, "(direct)"))
            return
        if out is None:
            task = self.loop.create_task(self._slow(cycle, body))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)
        elif type(out) is Pending:
            out.fut.add_done_callback(partial(self._committed, cycle, out))
        else:
            self._respond(cycle, encode(*out))  # type: ignore[misc]

    def _committed(self, cycle: DirectCycle, pending: Pending, _: Any) -> None:
        try:
            answer = pending.answer()
        except Exception as exc:
            answer = failed(exc, "(direct)")
        self._respond(cycle, answer)

    async def _slow(self, cycle: DirectCycle, body: bytes) -> None:
        """``Ingest.handle`` on what the parser collected: the one place the answers are made."""
        ingest = self.ingest
        assert ingest is not None
        scope = {
            "type": "http",
            "method": "POST",
            "http_version": "1.1",
            "path": cycle.path,
            "headers": cycle.headers,
            "query_string": cycle.query,
            "path_params": cycle.params,
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        self._respond(cycle, await ingest.answer(scope, receive))

    def _respond(self, cycle: DirectCycle, answer: Answer) -> None:
        cycle.response_complete = True
        if self.transport.is_closing():  # the client left; the commit stands, nobody to tell
            return
        self.transport.write_now(self._wire(answer, cycle.keep_alive))  # type: ignore[attr-defined]
        if not cycle.keep_alive:
            self.transport.close()
        self.on_response_complete()

    def _wire(self, answer: Answer, keep_alive: bool) -> bytes:
        """The response's bytes; the common answers' are kept until the Date header changes (uvicorn
        replaces ``default_headers`` once a second)."""
        defaults = self.server_state.default_headers
        if _WIRE.defaults is not defaults:
            _WIRE.defaults, _WIRE.cache = defaults, {}
        key = answer if len(answer[1]) == 2 else None  # only the two headers encode() always sets
        if key is not None:
            done = _WIRE.cache.get((answer[0], answer[2], keep_alive))
            if done is not None:
                return done
        status, headers, payload = answer
        out = [STATUS_LINE[status]]
        for name, value in defaults:
            out += [name, b": ", value, b"\r\n"]
        for name, value in headers:
            out += [name, b": ", value, b"\r\n"]
        if not keep_alive:
            out.append(b"connection: close\r\n")
        out += [b"\r\n", payload]
        data = b"".join(out)
        if key is not None and len(_WIRE.cache) < 64:
            _WIRE.cache[(status, payload, keep_alive)] = data
        return data


class _WireCache:
    defaults: Any = None
    cache: dict[tuple[int, bytes, bool], bytes] = {}  # noqa: RUF012


_WIRE = _WireCache()


def direct_protocol(ingest: Ingest) -> type[KobanHttpProtocol]:
    """The protocol class for uvicorn's ``http=``, answering ingest POSTs with ``ingest``."""
    return type("KobanHttpProtocol", (KobanHttpProtocol,), {"ingest": ingest})
