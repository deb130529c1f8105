"""Slack channel and interactivity endpoint (see docs/integrations/slack.md)."""

from koban.channels.slack.channel import SlackChannel
from koban.channels.slack.interactivity import SlackClick, SlackDeps, build_routes, parse_click
from koban.channels.slack.message import build_message

__all__ = ["SlackChannel", "SlackClick", "SlackDeps", "build_message", "build_routes", "parse_click"]
