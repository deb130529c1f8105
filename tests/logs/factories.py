"""Logs written into the real OpenSearch node, and the config objects the tests run."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import aiohttp

from koban.config.model import ConfigFile

MAPPING = {
    "mappings": {
        "properties": {
            "@timestamp": {"type": "date"},
            "level": {"type": "keyword"},
            "service": {"type": "keyword"},
            "user": {"type": "keyword"},
            "latency": {"type": "float"},
            "message": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}},
        }
    }
}


def doc(at: datetime, level: str, message: str, service: str = "shop", **extra: Any) -> dict[str, Any]:
    return {
        "@timestamp": at.astimezone(UTC).isoformat(),
        "level": level,
        "message": message,
        "service": service,
        **extra,
    }


async def make_index(url: str, docs: list[dict[str, Any]], prefix: str = "logs") -> str:
    index = f"{prefix}-{secrets.token_hex(4)}"
    async with aiohttp.ClientSession() as s:
        async with s.put(f"{url}/{index}", json=MAPPING) as r:
            assert r.status == 200, await r.text()
        if docs:
            await add(url, index, docs)
    return index


async def add(url: str, index: str, docs: list[dict[str, Any]]) -> None:
    lines = "".join(json.dumps({"index": {}}) + "\n" + json.dumps(d) + "\n" for d in docs)
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{url}/{index}/_bulk?refresh=true",
            data=lines.encode(),
            headers={"Content-Type": "application/x-ndjson"},
        ) as r,
    ):
        body = await r.json()
        assert r.status == 200 and not body["errors"], body


def config(url: str, **sections: Any) -> ConfigFile:
    base: dict[str, Any] = {
        "services": [{"id": "shop", "policy": None}],
        "log_clusters": [{"id": "local", "url": url, "dashboards_url": "http://dash.example"}],
    }
    return ConfigFile.model_validate(base | sections)
