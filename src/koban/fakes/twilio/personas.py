"""Scripted people behind phone numbers: how the simulated callee behaves.

A persona file (YAML) maps E.164 numbers to a behaviour, either by name or spelled out::

    default: no-answer            # numbers not listed below
    numbers:
      "+15550000001": ack                    # answers, presses 1
      "+15550000002": {behavior: answer, digits: "*1", answer_after: 3, press_after: 2}
      "+15550000003": busy
      "+15550000004": voicemail

``digits`` is consumed one key per ``<Gather>``: ``"*1"`` asks for a repeat, then acknowledges.
All times are in simulated seconds; the simulator divides them by its ``speed``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml


class Behavior(enum.StrEnum):
    ANSWER = "answer"  # human answers; presses ``digits`` (none: stays silent)
    NO_ANSWER = "no-answer"  # rings until the call's Timeout
    BUSY = "busy"
    MACHINE = "machine"  # voicemail picks up (AnsweredBy=machine_start when AMD is on)
    FAILED = "failed"  # carrier cannot connect
    INVALID = "invalid"  # REST create answers 21211
    UNVERIFIED = "unverified"  # REST create answers 21219 (trial account)
    THROTTLED = "throttled"  # REST create answers 429 / 20429


@dataclass(frozen=True, slots=True)
class Persona:
    behavior: Behavior = Behavior.NO_ANSWER
    digits: str = ""
    answer_after: float = 2.0  # ringing time before answer / busy
    press_after: float = 1.0  # listening time before the key press inside a Gather
    say_seconds: float = 1.0  # how long one <Say> takes to speak (per loop)

    def digit_for(self, gather_index: int) -> str | None:
        return self.digits[gather_index] if gather_index < len(self.digits) else None


# Named shorthands used in persona files and tests.
PRESETS: dict[str, Persona] = {
    "ack": Persona(Behavior.ANSWER, digits="1"),
    "escalate": Persona(Behavior.ANSWER, digits="2"),
    "resolve": Persona(Behavior.ANSWER, digits="3"),
    "repeat-then-ack": Persona(Behavior.ANSWER, digits="*1"),
    "silent": Persona(Behavior.ANSWER),
    "no-answer": Persona(Behavior.NO_ANSWER),
    "busy": Persona(Behavior.BUSY, answer_after=1.0),
    "voicemail": Persona(Behavior.MACHINE),
    "machine": Persona(Behavior.MACHINE),
    "failed": Persona(Behavior.FAILED),
    "invalid": Persona(Behavior.INVALID),
    "unverified": Persona(Behavior.UNVERIFIED),
    "throttled": Persona(Behavior.THROTTLED),
}


def parse_persona(spec: str | Mapping[str, Any] | Persona) -> Persona:
    if isinstance(spec, Persona):
        return spec
    if isinstance(spec, str):
        if spec in PRESETS:
            return PRESETS[spec]
        raise ValueError(f"unknown persona {spec!r}; use one of {', '.join(sorted(PRESETS))}")
    data = dict(spec)
    base = parse_persona(data.pop("preset")) if "preset" in data else Persona()
    if "behavior" in data:
        data["behavior"] = Behavior(data["behavior"])
    if "digits" in data:
        data["digits"] = str(data["digits"])
    unknown = set(data) - set(Persona.__slots__)
    if unknown:
        raise ValueError(f"unknown persona fields: {', '.join(sorted(unknown))}")
    return replace(base, **data)


@dataclass(frozen=True, slots=True)
class PersonaBook:
    numbers: Mapping[str, Persona]
    default: Persona = PRESETS["no-answer"]

    def for_number(self, number: str) -> Persona:
        return self.numbers.get(number, self.default)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> PersonaBook:
        data = data or {}
        numbers = {str(k): parse_persona(v) for k, v in (data.get("numbers") or {}).items()}
        default = parse_persona(data["default"]) if "default" in data else PRESETS["no-answer"]
        return cls(numbers=numbers, default=default)

    @classmethod
    def load(cls, path: str | Path) -> PersonaBook:
        return cls.from_mapping(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
