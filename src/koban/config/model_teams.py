"""Teams: who belongs, with which role. Services, policies and rotations name their team; what a
team owns, its members may see and act on as their role allows (``auth/permissions.py``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from koban.config.base import Identified, Strict


class Member(Strict):
    person: str
    role: Literal["viewer", "responder", "manager", "admin"] = "responder"


class Team(Identified):
    members: list[Member] = Field(default_factory=list)
