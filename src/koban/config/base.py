"""The base classes every config object shares: frozen, no unknown keys, and an id people can type."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Identified(Strict):
    # The pattern is stated in the JSON Schema too, so API clients (and schemathesis) know the rule.
    id: str = Field(json_schema_extra={"pattern": ID.pattern})
    name: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID.match(v):
            raise ValueError(
                "ids are letters, digits, '.', '_' or '-' (max 128), starting with a letter or digit"
            )
        return v
