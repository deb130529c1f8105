"""Channel kind -> implementation. Adding a vendor is a folder plus one line here.

Classes are imported lazily so a channel's SDK is loaded only when a config uses it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
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
    return getattr(importlib.import_module(module), name)


def _clock(context: Any) -> Any:
    return context.clock.now if context is not None else None


# How each kind is constructed. Most channels read their settings from ``Notification.config`` at
# send time and only need the clock; the console keeps a per-instance prefix.
_FACTORIES: dict[str, Any] = {
    "console": lambda cls, settings, ctx: cls(settings, ctx),
    "webhook": lambda cls, settings, ctx: cls(clock=_clock(ctx)) if ctx else cls(),
    "email": lambda cls, settings, ctx: cls(clock=_clock(ctx)) if ctx else cls(),
    "slack": lambda cls, settings, ctx: cls(),
    "pagerduty": lambda cls, settings, ctx: cls(),
    "voice": lambda cls, settings, ctx: _twilio("voice", settings, ctx),
    "sms": lambda cls, settings, ctx: _twilio("sms", settings, ctx),
}


def _twilio(kind: str, settings: Mapping[str, Any], ctx: Any) -> Channel:
    # Calls need the engine's stores (call states, contact problems): built by its wiring module.
    from koban.bootstrap.wiring.twilio import make_channel

    return make_channel(kind, settings, ctx)


def build_channel(kind: str, settings: Mapping[str, Any], context: Any) -> Channel:
    """Instantiate a channel with its settings and the shared context (keys, public URL, clock)."""
    cls = channel_class(kind)
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise ValueError(f"channel type {kind!r} is not wired into the engine yet")
    return factory(cls, settings, context)
