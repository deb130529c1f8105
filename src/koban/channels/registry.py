"""Channel kind -> implementation. Adding a vendor is a folder plus one line here.

Classes are imported lazily so a channel's SDK is loaded only when a config uses it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from koban.channels.base import Channel

_CLASSES: dict[str, str] = {
    "console": "koban.channels.console:ConsoleChannel",
    "webhook": "koban.channels.webhook:WebhookChannel",
    "slack": "koban.channels.slack:SlackChannel",
    "email": "koban.channels.email:EmailChannel",
    "pagerduty": "koban.channels.pagerduty:PagerDutyChannel",
    "voice": "koban.channels.voice:VoiceChannel",
    "sms": "koban.channels.sms:SmsChannel",
}

# Which contact of a person a channel kind uses (None: the channel's own settings say where).
CONTACT_FIELD: dict[str, str | None] = {
    "console": None,
    "webhook": "webhook",
    "slack": "slack",
    "email": "email",
    "pagerduty": None,
    "voice": "phone",
    "sms": "phone",
}

# Channels that carry a schedule notice (a handoff message, a swap notice) as text. Not a voice
# call (its keypad acknowledges an incident; a notice has none to speak of) nor PagerDuty (it would
# open an incident there): a person's notify list is used without them (docs/schedules.md).
NOTICE_TYPES: tuple[str, ...] = ("console", "webhook", "slack", "email", "sms")

# Channels whose messages show who is on call (read from the incident's frozen plan).
SHOWS_ON_CALL_TYPES: tuple[str, ...] = ("slack",)

# Channels whose earlier message is updated when the incident changes state.
UPDATABLE_TYPES: tuple[str, ...] = ("slack", "pagerduty", "webhook", "console")


def known_types() -> list[str]:
    return sorted(_CLASSES)


def channel_class(kind: str) -> type:
    try:
        path = _CLASSES[kind]
    except KeyError:
        raise ValueError(f"unknown channel type {kind!r}; known: {', '.join(known_types())}") from None
    module, _, name = path.partition(":")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def _clock(context: Any) -> Any:
    return context.clock.now if context is not None else None


# How each kind is constructed. Most channels read their settings from ``Notification.config`` at
# send time and only need the clock; the console keeps a per-instance prefix.
# (the class from ``channel_class``, the channel's settings, the shared context) -> the channel
ChannelFactory = Callable[[type, Mapping[str, Any], Any], Channel]

_FACTORIES: dict[str, ChannelFactory] = {
    "console": lambda cls, settings, ctx: cls(settings, ctx),
    "webhook": lambda cls, settings, ctx: cls(clock=_clock(ctx)) if ctx else cls(),
    "email": lambda cls, settings, ctx: cls(clock=_clock(ctx)) if ctx else cls(),
    "slack": lambda cls, settings, ctx: cls(),
    "pagerduty": lambda cls, settings, ctx: cls(),
}
# "voice" and "sms" need koban's stores (call states, contact problems, tokens): the
# composition root passes their factories in (``wired``), so no channel imports back up.


def build_channel(
    kind: str,
    settings: Mapping[str, Any],
    context: Any,
    wired: Mapping[str, ChannelFactory] | None = None,
) -> Channel:
    """Instantiate a channel with its settings and the shared context (keys, public URL, clock);
    ``wired``: factories the composition root adds for kinds built from koban's stores."""
    cls = channel_class(kind)
    factory = (wired or {}).get(kind) or _FACTORIES.get(kind)
    if factory is None:
        raise ValueError(f"channel type {kind!r} is not wired into koban yet")
    return factory(cls, settings, context)
