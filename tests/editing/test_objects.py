"""One config object written through the editing capability, as the API and the pages do: the
door named on the audit entry, the config's own cross-references refusing, and what config as code
manages refused when the door asks (the pages), allowed when it does not (the REST API)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from koban.auth.audit import Door, Origin
from koban.config.model import Person
from koban.db.schema_auth import audit_events
from koban.editing.objects import Invalid, Managed, save_object
from koban.editing.rules import holder, yaml_managed
from tests.support.factories import make_config
from tests.support.system import running_system

UI = Origin("alice", Door.UI, "127.0.0.1")


async def _doors(k, kind: str, ident: str) -> list[tuple[str, str]]:
    a = audit_events.c
    async with k.db.read() as conn:
        q = sa.select(a.action, a.via).where(a.object_kind == kind, a.object_id == ident).order_by(a.id)
        return [tuple(r) for r in await conn.execute(q)]


async def test_a_person_is_written_audited_with_the_callers_door_and_refused_when_the_yaml_owns_it(
    db_url, tmp_path
):
    async with running_system(db_url, make_config(), tmp_path) as k:
        deps = k.api
        await save_object(deps, UI, "people", Person(id="dave", notify=["log"]), "dave", refuse_managed=True)
        await save_object(deps, UI, "people", Person(id="dave", name="Dave"), "dave", refuse_managed=True)
        assert deps.catalog.people["dave"].name == "Dave"
        assert await _doors(k, "people", "dave") == [("people.create", "ui"), ("people.update", "ui")]
        with pytest.raises(Managed):  # alice is the file's
            await save_object(deps, UI, "people", Person(id="alice", name="A"), "alice", refuse_managed=True)
        assert deps.catalog.people["alice"].name == "Alice"
        with pytest.raises(Invalid) as refused:
            await save_object(deps, UI, "people", Person(id="erin", notify=["nowhere"]), "erin")
        assert refused.value.problems == [(("people", 4, "notify", 0), "unknown channel 'nowhere'")]
        assert refused.value.holders == [("people", "erin")]
        with pytest.raises(Invalid) as refused:  # a channel still named: each holder once, by id
            await save_object(deps, UI, "channels", None, "log")
        assert refused.value.holders == [("people", n) for n in ("alice", "bob", "carol")]
        api = Origin(
            "alice", Door.API
        )  # the REST door keeps its rule: an administrator may override the file
        await save_object(deps, api, "people", Person(id="alice", name="A"), "alice")
        assert deps.catalog.people["alice"].name == "A"


@pytest.mark.parametrize(
    ("door", "managed"),
    [(None, True), (Door.CONFIG, True), (Door.CLI, True), (Door.API, False), (Door.UI, False)],
)
def test_an_object_is_the_files_when_config_apply_wrote_it_last_or_nobody_did(door, managed):
    assert yaml_managed(door) is managed


def test_a_problems_holder_is_the_object_its_place_is_in_or_its_section():
    cfg = make_config()
    assert holder(cfg, ("policies", 0, "steps", 1, "notify", 0, "channel")) == ("policies", "default")
    assert holder(cfg, ("sso", "group_mapping", 0, "team")) == ("sso", "")
    assert holder(cfg, ("people", 99, "notify")) == ("people", "")
    assert holder(cfg, ()) == ("", "")
