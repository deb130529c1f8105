"""A Twilio-compatible simulator (REST calls/messages, signed webhooks, scripted personas)."""

from pathlib import Path

from koban.fakes.twilio.personas import Behavior, Persona, PersonaBook
from koban.fakes.twilio.resources import SimCall, SimMessage
from koban.fakes.twilio.simulator import DEFAULT_ACCOUNT_SID, DEFAULT_NUMBER, TwilioSimulator

# Who answers the demo's calls (koban demo): the simulator's file, not a koban config.
DEMO_PERSONAS = Path(__file__).with_name("demo_personas.yaml")

__all__ = [
    "DEMO_PERSONAS",
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_NUMBER",
    "Behavior",
    "Persona",
    "PersonaBook",
    "SimCall",
    "SimMessage",
    "TwilioSimulator",
]
