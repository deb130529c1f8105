"""Edge checks shared by every Twilio-facing endpoint: signed form in, clear 4xx out.

The signed URL is rebuilt from ``public_url`` (what Twilio was told) plus the path and raw query we
received: behind a TLS-terminating proxy ``request.url`` would say http://internal:8000 and every
signature would fail. Each active auth token is tried (rotation); ``RequestValidator.validate``
compares in constant time and also tries the URL with and without the default port.
"""

from __future__ import annotations

import logging

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from twilio.request_validator import RequestValidator

from koban.channels.voice.settings import TwilioSettings

log = logging.getLogger(__name__)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def public_request_url(settings: TwilioSettings, request: Request) -> str:
    query = request.url.query
    return settings.public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


def signature_valid(settings: TwilioSettings, url: str, form: FormData, signature: str) -> bool:
    return any(RequestValidator(token).validate(url, form, signature) for token in settings.auth_tokens)


def problem(status: int, message: str) -> Response:
    """An error answer in koban's one shape (``{"detail": ...}``, as api/errors.py documents)."""
    return JSONResponse({"detail": message}, status_code=status)


async def signed_form(request: Request, settings: TwilioSettings) -> FormData | Response:
    """The request's form when Twilio signed it, else the 4xx response to send back."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return problem(403, "missing X-Twilio-Signature")
    ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype not in FORM_TYPES:
        return problem(415, "expected application/x-www-form-urlencoded")
    try:
        form = await request.form()
    except Exception as exc:  # python-multipart raises several types for malformed bodies
        return problem(400, f"malformed form body: {type(exc).__name__}")
    if not signature_valid(settings, public_request_url(settings, request), form, signature):
        log.warning("twilio webhook with a bad signature on %s", request.url.path)
        return problem(403, "invalid X-Twilio-Signature")
    return form
