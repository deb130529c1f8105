"""A Twilio-compatible simulator (REST calls/messages, signed webhooks, scripted personas)."""

from koban.fakes.twilio.personas import Behavior, Persona, PersonaBook
from koban.fakes.twilio.resources import SimCall, SimMessage
from koban.fakes.twilio.simulator import DEFAULT_ACCOUNT_SID, DEFAULT_NUMBER, TwilioSimulator

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_NUMBER",
    "Behavior",
    "Persona",
    "PersonaBook",
    "SimCall",
    "SimMessage",
    "TwilioSimulator",
]
