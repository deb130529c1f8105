"""Who may call each operation, in the OpenAPI document: the token it needs and the 401/403 answers.

The guards live in each route's dependencies (``auth/guard.py``); FastAPI does not describe them,
so this adds, for every guarded operation, the ``apiToken`` security requirement, the scope in the
description, and the documented error answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.routing import Route

from koban.auth.guard import guard_of

# The shape itself is ErrorBody, put in the document by openapi_errors.document_errors.
ERROR_REF = "#/components/schemas/Error"


def flat_routes(routes: list[Any]) -> list[Any]:
    out: list[Any] = []
    for r in routes:
        inner = getattr(r, "original_router", None)  # FastAPI includes routers lazily
        if inner is not None:
            out += flat_routes(inner.routes)
        elif isinstance(r, Route):
            out.append(r)
    return out


def document_access(app: FastAPI, spec: dict[str, Any]) -> None:
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})["apiToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (kbt_…): koban token create, or POST /api/v1/tokens.",
    }
    error = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    for route in flat_routes(app.routes):
        guard = guard_of(route) if hasattr(route, "dependant") else None
        if guard is None or guard.scope is None:
            continue
        for method in route.methods or ():
            op = spec.get("paths", {}).get(route.path, {}).get(method.lower())
            if op is None:
                continue
            op["security"] = [{"apiToken": []}]
            need = guard.scope.name.lower() + (" in the owning team" if guard.team_of else "")
            need = "a valid token" if guard.any_role else need
            op["description"] = (op.get("description", "") + f"\n\nNeeds: {need}.").strip()
            responses = op.setdefault("responses", {})
            responses.setdefault("401", {"description": "No valid token or session", "content": error})
            responses.setdefault(
                "403", {"description": f"The token or person lacks {need}", "content": error}
            )
