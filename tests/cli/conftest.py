"""No CLI test reads the developer's own saved login or KOBAN_URL/KOBAN_TOKEN: each starts local."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_saved_login(tmp_path, monkeypatch):
    monkeypatch.setenv("KOBAN_CLI_CONFIG", str(tmp_path / "cli-login.yaml"))
    monkeypatch.delenv("KOBAN_URL", raising=False)
    monkeypatch.delenv("KOBAN_TOKEN", raising=False)
