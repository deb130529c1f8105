"""Reports and schedule notices stay within Slack's limits however long or full of ``&`` they are."""

from __future__ import annotations

from koban.channels.slack.message import build_message
from koban.channels.slack.plain_messages import escaped_pieces
from koban.fakes.slack.blocks import invalid_blocks
from tests.channels.factories import make_incident, make_notification


def _texts(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if "text" in b]


def test_a_long_report_full_of_ampersands_is_cut_into_sections_slack_accepts() -> None:
    report = "\n".join(f"R&D <team> {i}: " + "&" * 700 for i in range(10))
    n = make_notification(
        {}, kind="report", incident=make_incident(summary="Weekly & monthly", details={"text": report})
    )
    message = build_message(n)
    assert not invalid_blocks(message)
    assert all(len(t) <= 3000 for t in _texts(message))
    body = "".join(t.removeprefix("```").removesuffix("```") for t in _texts(message)[1:])
    assert body == report.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_a_report_past_fifty_blocks_says_it_was_cut() -> None:
    n = make_notification({}, kind="report", incident=make_incident(details={"text": "x" * 400_000}))
    message = build_message(n)
    assert len(message["blocks"]) == 50 and not invalid_blocks(message)
    assert _texts(message)[-1] == "```…```"


def test_a_piece_never_ends_inside_an_escape() -> None:
    for offset in range(6):
        pieces = escaped_pieces("a" * offset + "&" * 30, 12)
        assert all(len(p) <= 12 for p in pieces)
        assert all(p.count("&") == p.count("&amp;") for p in pieces)  # every escape whole
        assert "".join(pieces) == "a" * offset + "&amp;" * 30


def test_a_long_schedule_notice_fits() -> None:
    n = make_notification(
        {}, kind="notice", incident=make_incident(summary="Handoff & more " * 300 + "\n" + "<x> " * 2000)
    )
    message = build_message(n)
    assert not invalid_blocks(message)
