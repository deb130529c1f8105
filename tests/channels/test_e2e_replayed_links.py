"""Signed links over real HTTP, replayed: a link posted twice, or an Escalate link from a message the
escalation has moved past, changes nothing the second time and the page says why."""

from __future__ import annotations

import re

import aiohttp

from koban.bootstrap.wiring.links import mint_links
from koban.channels.actions import IncidentAction
from koban.channels.links import LinkSigner
from tests.channels.voice.engine_rig import PHONES, koban_and_simulator
from tests.support.factories import make_alert

RINGING = {"numbers": {PHONES["alice"]: {"behavior": "no-answer"}}}


async def click(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url) as resp:
        return resp.status, await resp.text()


def texts_to(rig, person: str) -> list:
    return [m for m in rig.sim.messages if m.to == PHONES[person] and m.direction != "inbound"]


def ack_link(rig, person: str) -> str:
    [page] = texts_to(rig, person)
    match = re.search(r"(http://\S+/l/\S+)", page.body)
    assert match, page.body
    return match[1]


async def test_a_replayed_or_late_link_acts_once_and_says_why(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path, personas=RINGING, speed=1, via=["text"]) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        inc = res.incident_id
        await rig.wait_for(inc, "notification.sent", actor="alice")
        page, incident = await rig.delivery("text/alice"), await rig.incident(inc)
        assert (page["step"], page["loop"]) == (0, 0)
        signer = LinkSigner(rig.k.signing_key.decode("utf-8", "replace"))

        def escalate_link(attempts: int) -> str:
            # The same page's Escalate link; a resend of the page (another attempt) mints a fresh one.
            sent = {**page, "attempts": attempts}
            return mint_links(
                signer, rig.url, sent, incident, rig.k.clock.now(), actions=(IncidentAction.ESCALATE,)
            )["escalate"]

        link = escalate_link(0)
        assert (await click(link))[0] == 200
        await rig.wait_for(inc, "notification.sent", actor="bob")
        status, text = await click(link)
        assert status == 409 and "this link was already used" in text
        assert f"incident {inc} is triggered at step 2" in text
        status, text = await click(escalate_link(1))  # a fresh link, but for a step already left
        assert status == 409 and "already escalated to step 2 by alice" in text

        # The real Ack links from the texts: used twice, and a second person acknowledging.
        alice_ack = ack_link(rig, "alice")
        assert (await click(alice_ack))[0] == 200
        status, text = await click(alice_ack)
        assert (
            status == 409
            and f"already used (each link works once); incident {inc} is acknowledged by alice" in text
        )
        status, text = await click(ack_link(rig, "bob"))
        assert status == 409 and "incident is already acknowledged by alice" in text

        assert len(texts_to(rig, "bob")) == 1 and texts_to(rig, "carol") == []
        assert await rig.escalated_by(inc) == ["alice"]
        assert await rig.refusals(inc) == [
            ("alice", "link", "escalate"),
            ("alice", "link", "escalate"),
            ("alice", "link", "acknowledge"),
            ("bob", "link", "acknowledge"),
        ]
        late = [e for e in await rig.timeline(inc) if e["kind"] == "action.refused"][1]
        assert late["data"]["seen"] == {"step": 0, "loop": 0}
        assert await rig.trail(inc) == [
            ("incident.escalate", "alice", "link"),
            ("incident.escalate.refused", "alice", "link"),
            ("incident.escalate.refused", "alice", "link"),
            ("incident.acknowledge", "alice", "link"),
            ("incident.acknowledge.refused", "alice", "link"),
            ("incident.acknowledge.refused", "bob", "link"),
        ]
