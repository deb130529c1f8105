"""``koban incident ...`` run beside ``make run`` finds the demo's data, says which database it opened,
and never creates an empty one by opening the wrong place (issue 17, item 3)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from koban.cli.main import app as cli
from tests.support.factories import make_alert, make_config
from tests.support.system import running_system


async def _one_incident(url: str, tmp_path: Path) -> int:
    async with running_system(url, make_config(), tmp_path) as k:
        [accepted] = await k.batcher.submit("web-generic", [make_alert("web-1")])
        return int(accepted.incident_id)


@pytest.fixture
def in_checkout(tmp_path, monkeypatch) -> Path:
    """A checkout's working directory, no database named in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("KOBAN_DATA_DIR", "KOBAN_DATABASE_URL", "KOBAN_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_incident_list_beside_the_demo_reads_the_demos_database(in_checkout: Path):
    demo = in_checkout / "data" / "demo"
    demo.mkdir(parents=True)
    (demo / "secret.key").write_text("test-secret")
    incident = asyncio.run(_one_incident(f"sqlite:///{demo / 'koban.db'}", demo))
    result = CliRunner().invoke(cli, ["incident", "list"])
    assert result.exit_code == 0, result.output
    assert f"#{incident}" in result.stdout and "disk full" in result.stdout
    assert f"database: sqlite:///{(demo / 'koban.db').resolve()}" in result.stderr
    assert not (in_checkout / "data" / "koban.db").exists()


def test_with_no_database_anywhere_it_says_where_it_looked_and_creates_nothing(in_checkout: Path):
    result = CliRunner().invoke(cli, ["incident", "ack", "1", "--actor", "bob"])
    assert result.exit_code == 1
    assert f"no koban database at {(in_checkout / 'data' / 'koban.db').resolve()}" in result.stderr
    assert "data/demo" in result.stderr
    assert not (in_checkout / "data" / "koban.db").exists()
