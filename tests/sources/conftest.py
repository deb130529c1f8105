from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from koban.sources.base import InboundRequest

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2026, 11, 22, 18, 40, tzinfo=UTC)


def make_request(
    body: Any, received_at: datetime = NOW, headers: dict[str, str] | None = None
) -> InboundRequest:
    raw = json.dumps(body).encode()
    return InboundRequest(body=raw, json=body, headers=headers or {}, query={}, received_at=received_at)


def load_sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture
def now() -> datetime:
    return NOW
