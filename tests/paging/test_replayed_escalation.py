"""A replayed or late Escalate (a Slack click sent three times, a button on an old message) moves
the incident on once: the click names the step it was shown at, and a moved-on incident refuses."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from koban.channels.actions import IncidentAction
from koban.channels.slack.interactivity import parse_click
from koban.domain.escalation import EscalateNow, EscState, Status, decide
from tests.support.factories import make_alert, make_config
from tests.support.system import running_system


def test_a_click_names_the_step_its_message_showed() -> None:
    def body(value: str) -> bytes:
        action = {"action_id": "escalate", "value": value}
        return urlencode({"payload": json.dumps({"type": "block_actions", "actions": [action]})}).encode()

    click = parse_click(body("incident:42:1:0"))
    assert click is not None and (click.incident_id, click.action, click.seen) == (
        42,
        IncidentAction.ESCALATE,
        (1, 0),
    )
    older = parse_click(body("incident:42"))  # a message sent before buttons named their step
    assert older is not None and older.seen is None


def test_an_escalation_from_a_step_already_left_is_refused() -> None:
    at_step_2 = EscState(status=Status.TRIGGERED, step=2, loop=0, version=3)
    refused = decide(at_step_2, None, EscalateNow("bob", "slack", seen=(1, 0)), 0.0)
    assert refused.refused == "already escalated to step 3" and refused.state == at_step_2
    looped = EscState(status=Status.TRIGGERED, step=0, loop=1, version=4)
    assert decide(looped, None, EscalateNow("bob", "sms", seen=(0, 0)), 0.0).refused == (
        "already escalated to step 1, round 2"
    )


async def test_the_same_escalate_click_three_times_escalates_once(db_url, tmp_path):
    steps = [
        {"notify": [{"person": "alice"}], "escalate_after": "5m"},
        {"notify": [{"person": "bob"}], "escalate_after": "5m"},
        {"notify": [{"person": "carol"}], "escalate_after": "5m"},
    ]
    async with running_system(db_url, make_config(steps=steps), tmp_path) as k:
        [outcome] = await k.batcher.submit("web-generic", [make_alert()])
        incident = outcome.incident_id
        results = [
            await k.actions.act(incident, IncidentAction.ESCALATE, actor="bob", via="slack", seen=(0, 0))
            for _ in range(3)
        ]
        assert [r.ok for r in results] == [True, False, False]
        assert results[1].message == "already escalated to step 2 by bob"
