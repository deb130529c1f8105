"""Every setting of a schedule and of an imported calendar is in docs/schedules.md or
docs/calendars.md (issue 13: the docs cover every setting): a field added to the models without a
word in the docs fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from koban.config import model_calendars as c
from koban.config import model_schedules as s

DOCS = Path(__file__).resolve().parents[2] / "docs"
MODELS: list[type[BaseModel]] = [
    s.Schedule, s.Layer, s.Restriction, s.MemberChange, s.Override, s.Notices, s.UserGroup,
    s.Temporary, s.FixedShift, c.Calendar, c.CalDav, c.TaskMatch, c.TaskRule,
]  # fmt: skip


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_setting_is_documented(model: type[BaseModel]) -> None:
    text = (DOCS / "schedules.md").read_text("utf-8") + (DOCS / "calendars.md").read_text("utf-8")
    missing = [
        key
        for key in (f.alias or name for name, f in model.model_fields.items())
        if not any(form in text for form in (f"`{key}`", f"{key}:", f"`{key}.", f".{key}`", f"{key}`"))
    ]
    assert missing == []
