"""Channel secrets never come back out of the API, and a read-edit-write keeps them."""

from __future__ import annotations

from koban.api.redact import MARKER
from tests.support.factories import make_config
from tests.support.system import client, running_system


async def test_channel_secrets_are_redacted_and_survive_a_round_trip(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        body = {
            "id": "ops-slack",
            "type": "slack",
            "bot_token": "xoxb-real",
            "signing_secret": "s3",
            "channel": "C1",
        }
        assert (await c.put("/api/v1/channels/ops-slack", json=body)).status_code == 200
        got = (await c.get("/api/v1/channels/ops-slack")).json()
        assert got["bot_token"] == MARKER and got["signing_secret"] == MARKER and got["channel"] == "C1"
        listed = (await c.get("/api/v1/channels")).json()["channels"]
        assert "xoxb-real" not in str(listed)

        got["channel"] = "C2"  # edit one field, send the marker back
        assert (await c.put("/api/v1/channels/ops-slack", json=got)).status_code == 200
        stored = k.catalog.channels["ops-slack"].settings()
        assert (
            stored["bot_token"] == "xoxb-real"
            and stored["signing_secret"] == "s3"
            and stored["channel"] == "C2"
        )
