"""REST: who the caller is. ``koban login`` checks a token with it before saving it, so it needs
only a valid token: a person with no role yet still learns that their token works."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from koban.auth.guard import any_login

router = APIRouter(prefix="/api/v1/me", tags=["tokens"])


@router.get("", summary="The person and token behind this request", dependencies=[Depends(any_login())])
async def me(request: Request) -> dict[str, Any]:
    who = request.state.principal
    return {
        "person": who.person_id,
        "global_role": who.global_role.name.lower() if who.global_role is not None else None,
        "teams": {team: role.name.lower() for team, role in sorted(who.team_roles.items())},
        "token": {
            "id": who.token_id,
            "scope": who.token_scope.name.lower() if who.token_scope is not None else None,
            "team": who.token_team,
        },
    }
