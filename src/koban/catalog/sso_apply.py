"""``koban config apply`` for ``sso:``: one row (id ``oidc``), and the bound on what sign-ons gave.

The client secret is sealed at rest like a channel's (its name matches ``core/sealing.py``'s
rule); a ``${NAME}`` reference is sealed too, harmlessly, and read from the environment only when a
sign-in needs it. Roles that sign-ons gave (``source = 'sso'``, ``auth/sso_roles.py``) are not the
file's to set, but they never exceed what the new mapping could still give: a mapping removed, or
lowered, takes effect now rather than at each person's next sign-on.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.config.model import ConfigFile
from koban.config.model_sso import ROLES, ceilings
from koban.core.sealing import Sealer
from koban.db.schema_auth import memberships, sso, users

ROW = "oidc"


def _definition(cfg: ConfigFile) -> dict | None:
    return cfg.sso.model_dump(mode="json") if cfg.sso is not None else None


async def _stored(conn: AsyncConnection, sealer: Sealer | None) -> dict | None:
    found = (await conn.execute(sa.select(sso.c.definition).where(sso.c.id == ROW))).scalar()
    if found is None:
        return None
    opened: dict = sealer.open(found) if sealer is not None else found
    return opened


async def plan_sso(
    conn: AsyncConnection, cfg: ConfigFile, prune: bool, sealer: Sealer | None
) -> list[tuple[str, str, str]]:
    current, wanted = await _stored(conn, sealer), _definition(cfg)
    if wanted is None:
        return [("-", "sso", ROW)] if current is not None and prune else []
    if current is None:
        return [("+", "sso", ROW)]
    return [("~", "sso", ROW)] if current != wanted else []


async def apply_sso(
    conn: AsyncConnection, cfg: ConfigFile, now: float, prune: bool, sealer: Sealer | None
) -> list[tuple[str, str, str]]:
    changes = await plan_sso(conn, cfg, prune, sealer)
    for op, _, _ in changes:
        await conn.execute(sa.delete(sso).where(sso.c.id == ROW))
        wanted = _definition(cfg)
        if op != "-" and wanted is not None:
            stored = sealer.seal(wanted) if sealer is not None else wanted
            await conn.execute(sa.insert(sso).values(id=ROW, name="", definition=stored, updated_at=now))
    await _bound_sso_roles(conn, cfg)
    return changes


async def _bound_sso_roles(conn: AsyncConnection, cfg: ConfigFile) -> None:
    teams, top = ceilings(cfg.sso)
    m = memberships.c
    for r in (await conn.execute(sa.select(memberships).where(m.source == "sso"))).all():
        ceiling = teams.get(r.team_id)
        where = (m.team_id == r.team_id, m.person_id == r.person_id, m.source == "sso")
        if ceiling is None:
            await conn.execute(sa.delete(memberships).where(*where))
        elif ROLES.index(r.role) > ROLES.index(ceiling):
            await conn.execute(sa.update(memberships).where(*where).values(role=ceiling))
    u = users.c
    if top is None:
        await conn.execute(sa.update(users).where(u.sso_role.is_not(None)).values(sso_role=None))
    else:
        above = [role for role in ROLES if ROLES.index(role) > ROLES.index(top)]
        await conn.execute(sa.update(users).where(u.sso_role.in_(above)).values(sso_role=top))
