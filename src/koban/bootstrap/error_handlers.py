"""Every error answer in the one shape (``api/errors.py``), and a 405 whose ``Allow`` is the truth.

FastAPI answers request validation with ``detail`` as a list and an ``HTTPException`` with whatever
it was given; both go through ``shaped`` here, so ``detail`` is always text (the list in ``issues``).

A 405 comes from the first route whose path matched: with GET and PUT on one path registered as two
routes, Starlette's ``Allow`` names only the first one's methods. The handler lists the methods of
every route that serves the path, which is what RFC 9110 asks of ``Allow``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match, Route

from koban.api.errors import shaped
from koban.bootstrap.openapi_access import flat_routes


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    methods: set[str] = set()
    for route in flat_routes(app.router.routes):
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(app, request))
        if exc.status_code in (204, 304):  # no body allowed
            return JSONResponse(None, exc.status_code, headers=headers)
        return JSONResponse(jsonable_encoder(shaped(exc.detail)), exc.status_code, headers=headers)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(jsonable_encoder(shaped(list(exc.errors()))), 422)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
