"""Write one configuration object by applying the whole config with it replaced, so every door
validates the way ``koban config apply`` does, cross-references included: validate → store → audit
(with the caller's door) in one transaction → refresh this process's catalog.

The REST routes (``api/objects.py``, ``api/monitors.py``) and the settings pages
(``web/settings_edit.py``) both call ``save_object``; what a door adds is only how it reads its
input and shows a refusal.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from koban.auth.audit import Change, Origin, last_doors, record
from koban.catalog.apply import apply_config
from koban.config.references import Loc, check_references
from koban.core.clock import Clock
from koban.core.settings import Settings
from koban.db.engine import Database
from koban.editing.redact import redact
from koban.editing.rules import holder, yaml_managed


class EditDeps(Protocol):
    """What an edit needs of the running system (the API's and the pages' deps both have it)."""

    db: Database
    clock: Clock
    settings: Settings

    @property
    def catalog(self) -> Any: ...

    async def refresh_catalog(self, force: bool = False) -> None: ...


class Invalid(Exception):
    """The config with this object in it does not hold together: each problem's place and words,
    and the objects the problems are in (``holders``: (section, id), e.g. the policies that still
    name a channel being deleted), so a door can say which to change first."""

    def __init__(self, problems: list[tuple[Loc, str]], holders: list[tuple[str, str]] | None = None) -> None:
        super().__init__("; ".join(msg for _, msg in problems))
        self.problems = problems
        self.holders = holders or []


class Managed(Exception):
    """The object belongs to the YAML file: an edit through this door would be undone by the next
    ``koban config apply``, so the door refuses it."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind}/{ident} is managed by config as code")
        self.kind, self.ident = kind, ident


async def save_object(
    deps: EditDeps,
    origin: Origin,
    kind: str,
    obj: BaseModel | None,
    ident: str,
    action: str | None = None,
    refuse_managed: bool = False,
) -> None:
    """Create, replace (``obj``) or delete (``None``) one object of a config section.

    ``action``: what the audit trail calls it, when more precise than create/update/delete.
    ``refuse_managed``: refuse (``Managed``) to change an object config as code manages, decided
    inside the writing transaction so a concurrent apply cannot slip between check and write."""
    await deps.refresh_catalog()
    cfg = deps.catalog.as_config()
    items = [o for o in getattr(cfg, kind) if o.id != ident] + ([obj] if obj is not None else [])
    new = cfg.model_copy(update={kind: items})
    problems = check_references(new)
    if problems:
        raise Invalid(problems, list(dict.fromkeys(holder(new, loc) for loc, _ in problems)))
    old = getattr(deps.catalog, kind).get(ident)
    verb = "delete" if obj is None else ("create" if old is None else "update")
    change = Change(
        action or f"{kind}.{verb}",
        kind,
        ident,
        redact(old.model_dump(mode="json")) if old is not None else None,
        redact(obj.model_dump(mode="json")) if obj is not None else None,
    )
    async with deps.db.begin() as conn:
        managed = refuse_managed and old is not None
        if managed and yaml_managed((await last_doors(conn, kind, [ident])).get(ident)):
            raise Managed(kind, ident)
        now = deps.clock.now()
        await apply_config(conn, new, now, sealer=deps.settings.sealer())
        await record(conn, origin, [change], now)
    await deps.refresh_catalog(force=True)
