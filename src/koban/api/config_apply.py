"""REST: ``POST /api/v1/config/apply``, the whole config document at once, as ``koban config apply``
does locally: validated like ``koban config check``, applied in one transaction by the same catalog
function, each change on the audit trail. Administrators only: a config file changes everything."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from koban.api.access import ADMIN
from koban.api.deps import deps_of
from koban.api.redact import MARKER, redact
from koban.auth.audit import Change as Audited
from koban.auth.audit import Door, record
from koban.auth.guard import origin_of
from koban.catalog.apply import Change, apply_config, plan_changes
from koban.config.loader import ConfigError, parse_config
from koban.config.model import ConfigFile
from koban.config.model_calendars import Calendar

router = APIRouter(prefix="/api/v1/config", tags=["configuration"])
VERBS = {"+": "create", "~": "update", "-": "delete"}
# The raw document: YAML, or JSON (which YAML reads too); line numbers in problems refer to it.
DOCUMENT = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def _definition(section: Any, ident: str) -> dict[str, Any] | None:
    """An object's shape for the audit trail (secrets masked); None for kinds not kept by id."""
    obj = section.get(ident) if isinstance(section, dict) else None
    if obj is None:
        return None
    shown: dict[str, Any] = redact(obj.model_dump(mode="json"))
    if isinstance(obj, Calendar) and shown.get("url"):
        shown["url"] = MARKER  # an iCal secret address is its own credential (catalog/calendar_secrets.py)
    return shown


def audited(changes: list[Change], old: ConfigFile, new: ConfigFile) -> list[Audited]:
    """The audit trail's entries for an apply: each change with its before and after (secrets masked)."""

    def by_id(cfg: ConfigFile, kind: str) -> dict[Any, Any]:
        return {getattr(o, "id", None): o for o in getattr(cfg, kind, [])}

    return [
        Audited(
            f"{c.kind}.{VERBS.get(c.op, c.op)}",
            c.kind,
            c.id,
            _definition(by_id(old, c.kind), c.id),
            _definition(by_id(new, c.kind), c.id),
        )
        for c in changes
    ]


async def _document(request: Request) -> ConfigFile:
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "the config document is not UTF-8 text") from None
    if not text.strip():  # more likely a mistake than a wish to remove every object
        raise HTTPException(400, "the config document is empty")
    try:
        cfg = parse_config(text)
    except ConfigError as exc:
        raise HTTPException(422, "\n".join(str(p) for p in exc.problems)) from None
    if not any(v for v in cfg.model_dump(exclude_defaults=True).values()):
        # `{}` would delete every object: far more likely a mistake (or a fuzzer) than a wish.
        raise HTTPException(
            400, "the config document names no object: an empty config would delete everything"
        )
    return cfg


@router.post(
    "/apply",
    summary="Make the configuration match this whole YAML or JSON document; answers what changes",
    responses={400: {}, 422: {"description": "Every problem, one per line, with its line number"}},
    openapi_extra=DOCUMENT,
    dependencies=[ADMIN],
)
async def apply(
    request: Request, dry_run: bool = Query(False, description="Answer the plan; change nothing.")
) -> dict[str, Any]:
    deps = deps_of(request)
    cfg = await _document(request)
    sealer = deps.settings.sealer()
    if dry_run:
        async with deps.db.read() as conn:
            changes = await plan_changes(conn, cfg, sealer=sealer)
    else:
        await deps.refresh_catalog()
        old = deps.catalog.as_config()
        origin = origin_of(request)
        if request.headers.get("user-agent", "").startswith("koban-cli"):
            origin = replace(origin, via=Door.CLI)  # only a label: the token decided what is allowed
        async with deps.db.begin() as conn:
            now = deps.clock.now()
            changes = await apply_config(conn, cfg, now, sealer=sealer)
            await record(conn, origin, audited(changes, old, cfg), now)
        await deps.refresh_catalog(force=True)
    return {
        "dry_run": dry_run,
        "changes": [{"op": c.op, "kind": c.kind, "id": c.id, "text": str(c)} for c in changes],
    }
