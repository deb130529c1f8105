"""``/docs``: Swagger UI served by koban itself, so the API reference works on a closed network.

Its files come from npm's ``swagger-ui-dist`` (pinned in ``web/vendor/package.json``, installed by
``make install`` with ``npm ci`` into ``web/vendor/node_modules``, shipped in the package, never
copied into git). Swagger UI's usual inline start-up script is a file here (``static/docs.js``),
so the page keeps the same Content-Security-Policy as every other page.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import Response

from koban.auth.guard import public
from koban.web.render import render, viewer_of

router = APIRouter(include_in_schema=False)
OPEN = Depends(public("the API's description, public as any API reference"))
PACKAGE = "swagger-ui-dist"
SERVED = {  # the files the page loads, and nothing else of the package
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def vendor_dir(package: str) -> Traversable:
    return files("koban.web").joinpath("vendor", "node_modules", package)


def installed() -> bool:
    return vendor_dir(PACKAGE).joinpath("swagger-ui-bundle.js").is_file()


@router.get("/docs", dependencies=[OPEN])
async def api_docs(request: Request) -> Response:
    viewer = await viewer_of(request)
    return render(viewer, "docs.html", 200 if installed() else 503, ready=installed())


@router.get("/vendor/swagger-ui/{name}", dependencies=[OPEN])
async def swagger_file(name: str) -> Response:
    media = SERVED.get(name)
    item = vendor_dir(PACKAGE).joinpath(name) if media else None
    if media is None or item is None or not item.is_file():
        raise HTTPException(404, f"no file {name!r} (Swagger UI's files come with `make install`)")
    return Response(item.read_bytes(), media_type=media, headers={"cache-control": "public, max-age=86400"})
