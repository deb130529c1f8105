"""REST: contacts a vendor refused for good (an invalid or unverified phone number), and clearing one.

Pages skip a recorded address until the person's number changes in the config; this is where an
operator sees which people cannot be reached by phone, and clears the mark once the vendor side is
fixed (a number verified on a trial account, say) without changing the config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from starlette.routing import BaseRoute

from koban.api.access import ADMIN, READ
from koban.api.incidents import iso
from koban.auth.audit import Change, record
from koban.auth.guard import origin_of
from koban.db import schema_twilio as tw

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps


def _public(row: Any) -> dict[str, Any]:
    return {
        "person": row.person_id,
        "contact": row.contact,
        "address": row.address,
        "code": row.code,
        "error": row.error,
        "at": iso(row.at),
    }


def routes(deps: StoreDeps) -> list[BaseRoute]:
    router = APIRouter(prefix="/api/v1/contact-problems", tags=["people"])
    c = tw.contact_problems.c

    @router.get(
        "", summary="Contacts that pages skip because the vendor refused them for good", dependencies=[READ]
    )
    async def list_problems(person: str | None = None) -> dict[str, Any]:
        query = sa.select(tw.contact_problems).order_by(c.at.desc(), c.person_id, c.contact)
        if person is not None:
            query = query.where(c.person_id == person)
        async with deps.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {"problems": [_public(r) for r in rows]}

    @router.delete(
        "/{person}/{contact}",
        summary="Clear a contact's problem so pages try it again",
        responses={404: {}},
        dependencies=[ADMIN],
    )
    async def clear(request: Request, person: str, contact: str) -> dict[str, Any]:
        async with deps.db.begin() as conn:
            gone = await conn.execute(
                sa.delete(tw.contact_problems).where(c.person_id == person, c.contact == contact)
            )
            if gone.rowcount:
                change = Change("contact_problems.clear", "people", person, {"contact": contact}, None)
                await record(conn, origin_of(request), [change], deps.clock.now())
        if not gone.rowcount:
            raise HTTPException(404, f"people/{person} has no recorded problem with its {contact} contact")
        return {"person": person, "contact": contact, "cleared": True}

    return list(router.routes)
