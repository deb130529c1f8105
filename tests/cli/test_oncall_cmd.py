"""``koban oncall``: who is on call per schedule, from the database, at a given time."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from koban.cli.main import app
from tests.api.test_schedules import make_cfg
from tests.support.system import running_system


async def _seed(url: str, tmp_path) -> None:
    async with running_system(url, make_cfg(), tmp_path):
        pass


def test_oncall_at_a_time_per_schedule_and_the_shifts_that_follow(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'koban.db'}"
    asyncio.run(_seed(url, tmp_path))
    monkeypatch.setenv("KOBAN_DATABASE_URL", url)
    monkeypatch.setenv("KOBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KOBAN_SECRET_KEY", "test")
    runner = CliRunner()
    out = runner.invoke(app, ["oncall", "--at", "2027-01-15T08:00:00Z", "--team", "web", "--days", "10"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split()[:2] == ["web-primary", "bob"]
    assert "2027-01-11 09:00 to 2027-01-18 09:00 Europe/Paris" in lines[0]
    assert lines[1].split()[:3] == ["then", "web-primary", "alice"]
    missing = runner.invoke(app, ["oncall", "--schedule", "nope"])
    assert missing.exit_code == 1
