"""Helpers for prober tests: a config with monitors, a running prober, polling with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from koban.bootstrap.app import create_app
from koban.bootstrap.system import System
from koban.config.model import ConfigFile
from koban.monitoring.prober import Prober
from tests.support.admin import AdminToken
from tests.support.factories import make_config


def config_with(*monitors: dict[str, Any], **service: Any) -> ConfigFile:
    base = make_config(**service).model_dump(mode="json")
    return ConfigFile.model_validate({**base, "monitors": list(monitors)})


def http_monitor(url: str, ident: str = "web-health", **kw: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "service": "web",
        "type": "http",
        "target": url,
        "interval": "1s",
        "timeout": "1s",
        **kw,
    }


@asynccontextmanager
async def running_prober(k: System, location: str = "local", **kw: Any) -> AsyncIterator[Prober]:
    opts = {"flush_interval": 0.05, "sync_interval": 0.1, "rollup_interval": 0.2, **kw}
    prober = Prober(k.deps, location, **opts)
    await prober.start()
    try:
        yield prober
    finally:
        await prober.stop()


async def until(check: Callable[[], Awaitable[Any]], what: str, seconds: float = 15.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def api(k: System) -> httpx.AsyncClient:
    app = create_app(k, manage_system=False)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://koban.test", auth=AdminToken(k)
    )
