"""koban's own static files (the stylesheet), served from the package: no CDN, works offline."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Depends, HTTPException
from starlette.responses import Response

from koban.auth.guard import public

router = APIRouter(include_in_schema=False)
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


def _read(name: str) -> bytes | None:
    suffix = name[name.rfind(".") :] if "." in name else ""
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in TYPES:
        return None
    item = files("koban.web").joinpath("static", name)
    return item.read_bytes() if item.is_file() else None


@router.get("/static/{name}", dependencies=[Depends(public("style sheets and scripts of the sign-in pages"))])
async def static_file(name: str) -> Response:
    body = _read(name)
    if body is None:
        raise HTTPException(404, f"no static file {name!r}")
    media = TYPES[name[name.rfind(".") :]]
    return Response(body, media_type=media, headers={"cache-control": "public, max-age=3600"})
