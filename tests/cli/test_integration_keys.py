"""``koban integration keys|revoke-key``: rotation from the command line, on the database directly."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from typer.testing import CliRunner

from koban.cli.main import app
from koban.db import schema as t
from tests.ingest import support as s
from tests.support.system import running_system


async def _seed(url: str, tmp_path) -> None:
    async with running_system(url, s.edge_config(), tmp_path) as k, k.db.begin() as conn:
        for n in range(2):
            await conn.execute(
                sa.insert(t.integration_keys).values(
                    integration_id="in-generic", key_hash=f"{n:064d}", prefix=f"pre{n}", created_at=1.0
                )
            )


def test_keys_are_listed_and_revoked_after_a_grace_or_at_once(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'koban.db'}"
    asyncio.run(_seed(url, tmp_path))
    monkeypatch.setenv("KOBAN_DATABASE_URL", url)
    monkeypatch.setenv("KOBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KOBAN_SECRET_KEY", "test")
    runner = CliRunner()
    listed = runner.invoke(app, ["integration", "keys", "in-generic"])
    assert listed.exit_code == 0 and "pre0" in listed.output and "pre1" in listed.output
    assert (
        runner.invoke(app, ["integration", "revoke-key", "in-generic", "1", "--after", "60"]).exit_code == 0
    )
    assert runner.invoke(app, ["integration", "revoke-key", "in-generic", "2"]).exit_code == 0
    listed = runner.invoke(app, ["integration", "keys", "in-generic"])
    assert "pre0" in listed.output and "expires never" not in listed.output and "pre1" not in listed.output
    assert runner.invoke(app, ["integration", "revoke-key", "in-generic", "2"]).exit_code == 1
