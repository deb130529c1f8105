"""Small real servers on 127.0.0.1 for probe tests: HTTP (optionally TLS) with scripted routes."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Handler = Callable[[asyncio.StreamWriter, "Request"], Awaitable[None]]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _ok(w: asyncio.StreamWriter, r: Request) -> None:
    w.write(response(200, b"all ok", {"Content-Type": "text/plain"}))


async def _json(w: asyncio.StreamWriter, r: Request) -> None:
    body = json.dumps({"data": {"status": "UP", "items": [{"id": 7}]}, "count": 3}).encode()
    w.write(response(200, body, {"Content-Type": "application/json"}))


async def _chunked(w: asyncio.StreamWriter, r: Request) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    for part in (b"hello ", b"chunked ", b"world"):
        w.write(f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n")
        await w.drain()
        await asyncio.sleep(0.01)  # split across reads so the parser sees partial chunks
    w.write(b"0\r\nX-Trailer: yes\r\n\r\n")


async def _until_close(w: asyncio.StreamWriter, r: Request) -> None:
    w.write(b"HTTP/1.0 200 OK\r\n\r\nbody until close")


async def _slow(w: asyncio.StreamWriter, r: Request) -> None:
    await asyncio.sleep(5)
    w.write(response(200, b"late"))


async def _sluggish(w: asyncio.StreamWriter, r: Request) -> None:
    await asyncio.sleep(0.3)
    w.write(response(200, b"eventually"))


async def _slow_body(w: asyncio.StreamWriter, r: Request) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    await w.drain()
    await asyncio.sleep(5)


async def _truncated(w: asyncio.StreamWriter, r: Request) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")


async def _echo(w: asyncio.StreamWriter, r: Request) -> None:
    body = json.dumps({"method": r.method, "headers": r.headers, "body": r.body.decode()}).encode()
    w.write(response(200, body, {"Content-Type": "application/json"}))


async def _big(w: asyncio.StreamWriter, r: Request) -> None:
    w.write(response(200, b"x" * 300_000))


async def _continue(w: asyncio.StreamWriter, r: Request) -> None:
    w.write(b"HTTP/1.1 100 Continue\r\n\r\n" + response(204))


def _status(code: int) -> Handler:
    async def h(w: asyncio.StreamWriter, r: Request) -> None:
        w.write(response(code, b"status"))

    return h


def _redirect(location: str, code: int = 302) -> Handler:
    async def h(w: asyncio.StreamWriter, r: Request) -> None:
        w.write(response(code, b"", {"Location": location}))

    return h


@dataclass
class HttpServer:
    ssl_context: ssl.SSLContext | None = None
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    def __post_init__(self) -> None:
        self.routes.update(
            {
                "/ok": _ok,
                "/json": _json,
                "/chunked": _chunked,
                "/until-close": _until_close,
                "/slow": _slow,
                "/sluggish": _sluggish,
                "/slow-body": _slow_body,
                "/truncated": _truncated,
                "/echo": _echo,
                "/big": _big,
                "/continue": _continue,
                "/503": _status(503),
                "/r1": _redirect("/r2", 301),
                "/r2": _redirect("/ok", 307),
                "/see-other": _redirect("/echo", 303),
                "/loop": _redirect("/loop"),
            }
        )

    @property
    def base(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    async def start(self) -> HttpServer:
        # Port 0 the first time; a restart after stop() comes back on the same port ("target is back").
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            request = Request(method, path, headers, body)
            self.requests.append(request)
            handler = self.routes.get(path.split("?")[0], _status(404))
            await handler(writer, request)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
