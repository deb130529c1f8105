"""What the Twilio routes need from koban: one small object, built once at startup."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from koban.channels.actions import IncidentActions
from koban.channels.base import Notification
from koban.channels.voice.settings import TwilioSettings
from koban.channels.voice.state import CallStateStore
from koban.channels.voice.tokens import TokenStore

# key -> the Notification that delivery was created from (rebuilt from the delivery row), or None.
ResolveDelivery = Callable[[str], Awaitable[Notification | None]]
# E.164 number -> person key allowed to act by SMS reply, or None (unknown senders may not act).
PersonForPhone = Callable[[str], Awaitable[str | None]]
# person key -> their language (``ja-JP``), for answers to their SMS replies; None: English.
LanguageOf = Callable[[str], str | None]
# (incident id, person key) -> (step, loop) of the latest SMS page sent to them for it, or None.
LastSmsPage = Callable[[int, str], Awaitable[tuple[int, int] | None]]


def new_token_id() -> str:
    return secrets.token_urlsafe(12)


@dataclass
class TwilioDeps:
    settings: TwilioSettings
    actions: IncidentActions
    tokens: TokenStore
    call_states: CallStateStore
    resolve_delivery: ResolveDelivery
    person_for_phone: PersonForPhone | None = None
    last_sms_page: LastSmsPage | None = None
    language_of: LanguageOf | None = None
    clock: Callable[[], float] = field(default=time.time)
    new_id: Callable[[], str] = field(default=new_token_id)
