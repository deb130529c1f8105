"""Durations as people write them: ``30s``, ``5m``, ``1h30m``, ``2d``, or a number of seconds.

The grammar itself is core/durations.py, shared with the probe conditions."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

from koban.core.durations import parse_duration

__all__ = ["Duration", "parse_duration"]

Duration = Annotated[float, BeforeValidator(parse_duration)]
