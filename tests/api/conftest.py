"""The route walks call every route, the incidents' live stream too: it holds its connection for
25 s (then the browser reconnects); here it ends at once, so a walk does not wait on each caller."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _short_live_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("koban.web.live.STREAM_SECONDS", 0.05)
