"""Fake Slack for tests and the demo (see server.py)."""

from koban.fakes.slack.server import WEBHOOK, Failure, FakeSlack

__all__ = ["WEBHOOK", "FakeSlack", "Failure"]
