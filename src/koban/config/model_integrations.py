"""Settings of an integration's edge: how much a key may send (rate limits and a daily quota)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from koban.routing.ratelimit import Limits


class IntegrationLimits(BaseModel):
    """Alerts accepted per key: each alert of a delivery counts one. Over any of them the edge
    answers 429 with ``Retry-After``; the counts live in the database, shared by every instance."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    per_second: int | None = Field(None, ge=1)
    per_minute: int | None = Field(None, ge=1)
    # The daily quota, per UTC day.
    per_day: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _something(self) -> IntegrationLimits:
        if self.per_second is None and self.per_minute is None and self.per_day is None:
            raise ValueError("limits need at least one of per_second, per_minute or per_day")
        return self

    def as_limits(self) -> Limits:
        return Limits(per_second=self.per_second, per_minute=self.per_minute, per_day=self.per_day)
