"""examples/seed-002-slack-calls.yaml is a working config: warning -> Slack only; critical -> Slack, then
calls through the rotation one after another until someone answers."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from koban.catalog.snapshot import hash_key
from koban.cli.main import app as cli
from koban.config.loader import load_config
from koban.db import schema as t
from tests.support.factories import make_alert
from tests.support.outbound import _close_outbound_session  # noqa: F401  (autouse fixture)
from tests.support.system import running_system

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed-002-slack-calls.yaml"
INTEGRATION = "product-a-alertmanager"


def test_the_example_passes_config_check():
    result = CliRunner().invoke(cli, ["config", "check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


async def first_pages(k, incident_id: int) -> set[tuple[str, str | None]]:
    async with k.db.read() as conn:
        d = t.deliveries.c
        q = sa.select(d.channel_id, d.person_id).where(d.incident_id == incident_id, d.kind == "page")
        return {tuple(r) for r in await conn.execute(q)}


async def test_warning_goes_to_slack_only_and_critical_to_slack_then_calls_in_turn(db_url, tmp_path):
    cfg = load_config(EXAMPLE)
    async with running_system(db_url, cfg, tmp_path) as k:
        assert k.catalog.integrations[INTEGRATION].key_hashes == [hash_key("demo-am-key-change-me")]
        [warning] = await k.batcher.submit(INTEGRATION, [make_alert("disk", severity="warning")])
        [critical] = await k.batcher.submit(INTEGRATION, [make_alert("url-down", severity="critical")])
        assert await first_pages(k, warning.incident_id) == {("oncall-slack", None)}
        first = await first_pages(k, critical.incident_id)
        assert ("oncall-slack", None) in first
        [(_, first_called)] = [p for p in first if p[0] == "phone"]
        async with k.db.read() as conn:
            plan = (
                await conn.execute(
                    sa.select(t.incidents.c.plan).where(t.incidents.c.id == critical.incident_id)
                )
            ).scalar()
        called = [tg.get("person") for s in plan["steps"] for tg in s["targets"] if tg["channel"] == "phone"]
        assert sorted(called) == ["alice", "bob", "carol"] and called[0] == first_called
