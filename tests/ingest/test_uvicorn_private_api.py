"""The private uvicorn API that ``koban.ingest.http_protocol`` subclasses, pinned down.

``KobanHttpProtocol`` overrides parser callbacks of uvicorn's ``HttpToolsProtocol``, reads its
per-connection state and puts its own ``DirectCycle`` where uvicorn keeps a ``RequestResponseCycle``.
None of that is public API: pyproject.toml bounds uvicorn to the minor version these tests pass
with. When uvicorn is upgraded, a failure here names the installed version and the member that
moved; read ``http_protocol.py`` against the new ``uvicorn/protocols/http/httptools_impl.py``
before widening the bound.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import textwrap
from collections import deque
from typing import Any

import pytest
import uvicorn
from uvicorn.config import Config
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from koban.ingest.http_protocol import CorkedHttpToolsProtocol, DirectCycle, KobanHttpProtocol

VERSION = f"uvicorn {uvicorn.__version__}"

# Methods koban overrides, each with the parameters (after self) its override takes and passes on.
OVERRIDDEN = {
    "connection_made": ["transport"],
    "on_message_begin": [],
    "on_headers_complete": [],
    "on_body": ["body"],
    "on_message_complete": [],
    "_start_asgi_task": ["cycle", "app"],
}
# Methods koban calls without overriding them.
CALLED = {"on_response_complete": []}
# What koban reads (or sets) of the protocol's state; the name of the type it expects, or None.
STATE = {
    "loop": "AbstractEventLoop",
    "transport": None,
    "flow": "FlowControl",
    "pipeline": "deque",
    "parser": "HttpRequestParser",
    "root_path": "str",
    "limit_concurrency": None,
    "tasks": "set",
    "server_state": "ServerState",
    "cycle": None,
    "url": "bytes",
    "headers": "list",
    "expect_100_continue": "bool",
    "scope": "dict",
}
# The parser's methods ``_direct_cycle`` calls.
PARSER = ["get_method", "get_http_version", "should_upgrade", "should_keep_alive"]
# Methods koban overrides so that they see a DirectCycle only when it is safe (not scanned below).
HANDLES_DIRECT_CYCLE = set(OVERRIDDEN)


def _fail(what: str) -> None:
    pytest.fail(f"{VERSION}: {what}; koban.ingest.http_protocol relies on it (see this test's docstring)")


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def is_closing(self) -> bool:
        return self.closing

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope: Any, receive: Any, send: Any) -> None:  # never called here
    raise AssertionError("not expected to run")


def _protocol() -> HttpToolsProtocol:
    config = Config(app=_app, http="httptools", log_config=None, lifespan="off")
    return HttpToolsProtocol(config=config, server_state=ServerState(), app_state={})


def test_the_subclassed_module_still_has_the_protocol_and_status_lines():
    if not inspect.isclass(getattr(httptools_impl, "HttpToolsProtocol", None)):
        _fail("uvicorn.protocols.http.httptools_impl.HttpToolsProtocol is gone")
    status_line = getattr(httptools_impl, "STATUS_LINE", None)
    if not isinstance(status_line, dict) or status_line.get(202) != b"HTTP/1.1 202 Accepted\r\n":
        _fail("httptools_impl.STATUS_LINE is no longer a dict: status code -> the HTTP/1.1 status line")
    assert issubclass(KobanHttpProtocol, CorkedHttpToolsProtocol)
    assert issubclass(CorkedHttpToolsProtocol, HttpToolsProtocol)


@pytest.mark.parametrize("name, params", [*OVERRIDDEN.items(), *CALLED.items()])
def test_overridden_and_called_methods_keep_their_signatures(name, params):
    method = getattr(HttpToolsProtocol, name, None)
    if method is None or not callable(method):
        _fail(f"HttpToolsProtocol.{name} is gone")
    got = list(inspect.signature(method).parameters)[1:]
    if got != params:
        _fail(f"HttpToolsProtocol.{name} now takes ({', '.join(got)}), not ({', '.join(params)})")


async def test_the_protocol_state_koban_reads_is_still_there():
    protocol = _protocol()
    protocol.connection_made(_Transport())
    protocol.on_message_begin()  # sets url, headers, expect_100_continue and the scope
    for name, type_name in STATE.items():
        if not hasattr(protocol, name):
            _fail(f"HttpToolsProtocol has no attribute {name!r} after connection_made + on_message_begin")
        value = getattr(protocol, name)
        if type_name is not None and not any(t.__name__ == type_name for t in type(value).__mro__):
            _fail(f"HttpToolsProtocol.{name} is now a {type(value).__name__}, not a {type_name}")
    assert isinstance(protocol.pipeline, deque)
    assert protocol.scope["headers"] is protocol.headers  # _asgi_scope swaps the collected headers in
    for name in PARSER:
        if not callable(getattr(protocol.parser, name, None)):
            _fail(f"the httptools parser has no {name}()")
    if not isinstance(getattr(protocol.server_state, "default_headers", None), list):
        _fail("ServerState.default_headers is no longer a list of (name, value) pairs")
    protocol.transport.close()


def _cycle_reads() -> dict[str, set[str]]:
    """What HttpToolsProtocol's methods (those koban does not override) use of ``self.cycle``, or of a
    ``cycle`` popped from ``self.pipeline``: method name -> attribute names."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(HttpToolsProtocol)))
    reads: dict[str, set[str]] = {}
    for node in tree.body[0].body:  # type: ignore[attr-defined]
        if not isinstance(node, ast.FunctionDef) or node.name in HANDLES_DIRECT_CYCLE:
            continue
        for sub in ast.walk(node):
            if not isinstance(sub, ast.Attribute):
                continue
            base = sub.value
            is_cycle = (isinstance(base, ast.Name) and base.id == "cycle") or (
                isinstance(base, ast.Attribute)
                and base.attr == "cycle"
                and isinstance(base.value, ast.Name)
                and base.value.id == "self"
            )
            if is_cycle:
                reads.setdefault(node.name, set()).add(sub.attr)
    return reads


def test_what_uvicorn_uses_of_a_cycle_a_direct_cycle_has():
    reads = _cycle_reads()
    direct = set(DirectCycle.__slots__) | {n for n in vars(DirectCycle) if not n.startswith("__")}
    missing = {f"{method}: cycle.{attr}" for method, attrs in reads.items() for attr in attrs - direct}
    if missing:
        _fail(
            "HttpToolsProtocol now uses cycle attributes a DirectCycle lacks: " + ", ".join(sorted(missing))
        )
    # The ones koban knows about today, so a scan that silently finds nothing also fails.
    assert {"response_complete", "disconnected", "message_event"} <= reads.get("connection_lost", set())
