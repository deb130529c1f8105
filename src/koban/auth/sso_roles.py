"""At each sign-on: write the memberships and global role the provider's groups give (``sso_rules``).

Rows a sign-on writes carry ``source = 'sso'``; ``koban config apply`` owns the ``'config'`` ones
and never deletes these (it only bounds them by the mapping, ``catalog/sso_apply.py``). A change is
recorded in the audit trail in the same transaction, with the roles before and after.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth.audit import Change, Origin, record
from koban.auth.permissions import Role
from koban.auth.sso_rules import granted_by, plan_memberships
from koban.config.model_sso import GroupMapping
from koban.db.schema_auth import memberships, users


def _shown(teams: dict[str, Role], global_role: Role | None) -> dict[str, object]:
    return {
        "teams": {t: r.name.lower() for t, r in sorted(teams.items())},
        "global_role": global_role.name.lower() if global_role else None,
    }


async def refresh_sso_roles(
    conn: AsyncConnection,
    person_id: str,
    groups: Iterable[str],
    mappings: Iterable[GroupMapping],
    origin: Origin,
    now: float,
) -> bool:
    """Make the person's sign-on roles what ``groups`` give now; True when something changed."""
    m = memberships.c
    rows = (await conn.execute(sa.select(memberships).where(m.person_id == person_id))).all()
    from_sso = {r.team_id: Role.parse(r.role) for r in rows if r.source == "sso"}
    from_config = {r.team_id for r in rows if r.source != "sso"}
    stored = (await conn.execute(sa.select(users.c.sso_role).where(users.c.person_id == person_id))).scalar()
    sso_global = Role.parse(stored) if stored else None
    groups = tuple(groups)
    plan = plan_memberships(
        granted_by(groups, mappings), from_sso=from_sso, from_config=from_config, sso_global=sso_global
    )
    if not plan.changed:
        return False
    for team in plan.delete | plan.upsert.keys():
        await conn.execute(
            sa.delete(memberships).where(m.team_id == team, m.person_id == person_id, m.source == "sso")
        )
    if plan.upsert:
        await conn.execute(
            sa.insert(memberships),
            [
                {"team_id": t, "person_id": person_id, "role": r.name.lower(), "source": "sso"}
                for t, r in plan.upsert.items()
            ],
        )
    new_global = plan.global_role.name.lower() if plan.global_role else None
    await conn.execute(sa.update(users).where(users.c.person_id == person_id).values(sso_role=new_global))
    after = {**{t: r for t, r in from_sso.items() if t not in plan.delete}, **plan.upsert}
    before_shown = _shown(from_sso, sso_global)
    after_shown = {**_shown(after, plan.global_role), "groups": sorted(groups)}
    await record(
        conn, origin, [Change("user.sso_roles", "person", person_id, before_shown, after_shown)], now
    )
    return True
