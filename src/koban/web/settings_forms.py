"""The settings forms read into config objects, without I/O: a person, a team's members, a
channel's settings. Each answers the object, or the words of why not (shown with a 422).

The object then goes through the editing capability (``editing/objects.py``) like a REST write, so
the config model and its cross-references judge it the same way; these readers only turn form
fields (flat strings) into the object's shape and say in words what a form got wrong.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ValidationError

from koban.config.model import Channel, Person
from koban.config.model_teams import Team
from koban.core.sealing import is_secret_setting
from koban.editing.redact import MARKER, redact, restore
from koban.web.i18n import N_

LANGUAGES = ("en-US", "ja-JP")
ROLES = ("viewer", "responder", "manager", "admin")
MAX_FIELD = 2000  # one field's characters; a contact list or a JSON setting stays well under it
MAX_CONTACTS = 20


@cache
def zones() -> tuple[str, ...]:
    """The time zones a person may pick (the IANA names this Python knows)."""
    return tuple(sorted(available_timezones()))


def first_error(exc: ValidationError) -> str:
    """The model's own words for its first problem, with where (``contacts.email: ...``)."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def _valid(model: type[BaseModel], data: dict[str, Any]) -> BaseModel | str:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return first_error(exc)


def read_contacts(text: str) -> dict[str, str] | str:
    """``kind: address`` per line (``phone: +81...``); blank lines are skipped."""
    contacts: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        kind, sep, address = line.partition(":")
        if not sep or not kind.strip() or not address.strip() or " " in kind.strip():
            return N_("Write each contact on its own line as kind: address (phone: +15550100).")
        contacts[kind.strip()] = address.strip()
    if len(contacts) > MAX_CONTACTS:
        return N_("Too many contacts.")
    return contacts


def read_person(form: dict[str, str], ident: str) -> BaseModel | str:
    timezone = form.get("timezone", "UTC")
    if timezone not in zones():
        return N_("Pick a time zone from the list.")
    language = form.get("language", "en-US").strip()
    if not language or len(language) > 35:
        return N_("Pick a language.")
    contacts = read_contacts(form.get("contacts", ""))
    if isinstance(contacts, str):
        return contacts
    # An unknown channel is the cross-references' to refuse (``editing.objects.Invalid``).
    notify = [c for c in form.get("notify", "").split("\n") if c]
    data = {
        "id": ident,
        "name": form.get("name", "").strip(),
        "timezone": timezone,
        "language": language,
        "contacts": contacts,
        "notify": notify,
    }
    return _valid(Person, data)


def read_new_team(form: dict[str, str], ident: str, people: set[str]) -> BaseModel | str:
    """A team to add: its id, name and members (as ``read_team`` reads them)."""
    return read_team(form, {"id": ident, "name": form.get("name", "").strip()}, people)


def read_team(form: dict[str, str], old: Team | dict[str, Any], people: set[str]) -> BaseModel | str:
    """``role:<person>`` per person: a role, or empty for not a member."""
    members = []
    for key, role in sorted(form.items()):
        if not key.startswith("role:") or not role:
            continue
        person = key.removeprefix("role:")
        if person not in people:
            return N_("No such person.")
        if role not in ROLES:
            return N_("Pick a role.")
        members.append({"person": person, "role": role})
    base = old if isinstance(old, dict) else old.model_dump(mode="json")
    return _valid(Team, {**base, "members": members})


def channel_fields(channel: Channel) -> list[tuple[str, str, bool]]:
    """Each setting as the form shows it: (key, text, secret). A secret's text is never its value:
    it is written only (empty keeps it); a value that is not a string is edited as JSON, any
    secret inside it masked."""
    fields = []
    for key, value in sorted(channel.settings().items()):
        if is_secret_setting(key, value):
            fields.append((key, "", True))
        elif isinstance(value, str):
            fields.append((key, value, False))
        else:
            fields.append((key, json.dumps(redact(value), ensure_ascii=False), False))
    return fields


def read_channel(form: dict[str, str], old: Channel) -> BaseModel | str:
    """The channel with the form's settings; its type and id stay, and a secret left empty (or
    the marker sent back) keeps the stored one (``editing/redact.restore``)."""
    stored = old.model_dump(mode="json")
    new: dict[str, Any] = {"id": old.id, "type": old.type, "name": form.get("name", "").strip()}
    for key, _, secret in channel_fields(old):
        sent = form.get(f"s:{key}", "")
        if secret and sent in ("", MARKER):
            new[key] = MARKER  # kept: restore puts the stored value back
        elif isinstance(stored.get(key), str):
            new[key] = sent
        else:
            try:
                new[key] = json.loads(sent)
            except ValueError:
                return N_("A setting written as JSON does not read as JSON.")
    return _valid(Channel, restore(new, stored))


def read_new_channel(form: dict[str, str], ident: str, types: list[str]) -> BaseModel | str:
    """A channel to add: id, name, type (one koban knows) and its settings as one JSON object
    (``{"url": "https://..."}``: what the YAML's or the REST API's channel holds besides those)."""
    kind = form.get("type", "")
    if kind not in types:
        return N_("Pick a channel type.")
    text = form.get("settings", "").strip() or "{}"
    try:
        settings = json.loads(text)
    except ValueError:
        return N_("A setting written as JSON does not read as JSON.")
    if not isinstance(settings, dict):
        return N_('Write the settings as one JSON object: {"key": "value"}.')
    if {"id", "name", "type"} & set(settings):
        return N_("The id, name and type have their own fields, not the settings.")
    return _valid(Channel, {**settings, "id": ident, "name": form.get("name", "").strip(), "type": kind})
