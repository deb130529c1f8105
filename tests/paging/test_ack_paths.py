"""Slack button, signed link, REST API and CLI all land in the same lifecycle function: one timeline shape."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from typer.testing import CliRunner

from koban.bootstrap.app import create_app
from koban.cli.main import app as cli
from koban.db import schema as t
from koban.fakes.slack.clicks import iter_buttons
from tests.channels.slack.engine_rig import slack_rig
from tests.support.admin import AdminToken
from tests.support.factories import make_alert
from tests.support.outbound import _close_outbound_session  # noqa: F401  (autouse fixture)
from tests.support.system import drain

# Team channel and alice's own Slack DM (which carries her signed links) in the first step.
STEPS = [{"notify": [{"channel": "slack"}, {"person": "alice"}], "escalate_after": "5m"}]


def link_from(message: dict, action: str, base: str) -> str:
    """The signed link on a URL button, re-pointed at the test server (public_url is not served)."""
    urls = [e["url"] for _, e in iter_buttons(message) if e["action_id"] == f"link_{action}"]
    assert urls, f"no {action} link on the message"
    return base + urlsplit(urls[0]).path


def has_links(message: dict) -> bool:
    return any(e["action_id"].startswith("link_") for _, e in iter_buttons(message))


async def acknowledged_entries(k) -> dict[int, dict]:
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.timeline).where(t.timeline.c.kind == "acknowledged").order_by(t.timeline.c.id)
        )
        return {r.incident_id: {"kind": r.kind, "actor": r.actor, "via": r.via, "data": r.data} for r in rows}


async def row(k, incident_id: int) -> dict:
    async with k.db.read() as conn:
        q = sa.select(t.incidents).where(t.incidents.c.id == incident_id)
        return dict((await conn.execute(q)).mappings().one())


async def test_every_path_acknowledges_through_one_function_with_one_timeline_shape(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path, steps=STEPS) as rig:
        k = rig.k
        ids = [
            (await k.batcher.submit("web-generic", [make_alert(f"a{n}")]))[0].incident_id for n in range(4)
        ]
        await drain(k)

        def message(i: int, *, dm: bool) -> dict:
            [m] = [m for m in rig.fake.messages if f"(incident {i})" in m["text"] and has_links(m) == dm]
            return m

        # Slack button, clicked by bob.
        assert await rig.fake.click(message(ids[0], dm=False)["ts"], "ack", "U_BOB") == 200
        # Signed link from alice's DM: GET only asks, POST acts, a second POST is refused.
        url = link_from(message(ids[1], dm=True), "acknowledge", rig.base)
        async with httpx.AsyncClient() as http:
            assert (await http.get(url)).status_code == 200
            assert (await row(k, ids[1]))["status"] == "triggered"
            done = await http.post(url)
            assert done.status_code == 200 and "acknowledged" in done.text
            replay = await http.post(url)
            assert replay.status_code == 409 and "already used" in replay.text
        # REST API.
        api = create_app(k, manage_system=False)
        transport = httpx.ASGITransport(app=api)
        auth = AdminToken(k)
        async with httpx.AsyncClient(transport=transport, base_url="http://koban", auth=auth) as http:
            resp = await http.post(f"/api/v1/incidents/{ids[2]}/acknowledge", json={"actor": "carol"})
            assert resp.status_code == 200
        # CLI, in its own process-like system on the same database.
        env = {"KOBAN_DATABASE_URL": db_url, "KOBAN_DATA_DIR": str(tmp_path), "KOBAN_SECRET_KEY": "x"}
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["incident", "ack", str(ids[3]), "--actor", "bob"], env=env
        )
        assert result.exit_code == 0, result.output

        entries = await acknowledged_entries(k)
        assert [entries[i]["via"] for i in ids] == ["slack", "link", "api", "cli"]
        assert [entries[i]["actor"] for i in ids] == ["bob", "alice", "carol", "bob"]
        shapes = {
            (tuple(sorted(e)), e["kind"], json.dumps(e["data"], sort_keys=True)) for e in entries.values()
        }
        assert len(shapes) == 1  # same keys, same kind, same data shape whichever door was used
        for i, (who, via) in zip(
            ids, [("bob", "slack"), ("alice", "link"), ("carol", "api"), ("bob", "cli")], strict=True
        ):
            r = await row(k, i)
            assert (r["status"], r["acknowledged_by"], r["acknowledged_via"]) == ("acknowledged", who, via)


async def test_expired_or_altered_link_explains_itself_and_changes_nothing(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path, steps=STEPS) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        await drain(rig.k)
        [dm] = [m for m in rig.fake.messages if has_links(m)]
        url = link_from(dm, "resolve", rig.base)
        async with httpx.AsyncClient() as http:
            altered = await http.post(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"))
            assert altered.status_code == 403 and "not valid" in altered.text
            rig.k.clock.advance(25 * 3600)
            expired = await http.post(url)
            assert expired.status_code == 410 and "expired" in expired.text
        assert (await row(rig.k, res.incident_id))["status"] == "triggered"
