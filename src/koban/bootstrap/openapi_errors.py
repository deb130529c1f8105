"""Every status an operation can answer, in the OpenAPI document, with the one error shape.

FastAPI documents what a route returns and the 422 of its parameters; the rest comes from places it
cannot see: the path parameters name an object that may not exist (404), the body limit middleware
(413), the HTTP server's head limits (431, before any route), and the handlers' own conflicts (409,
declared with ``responses=`` on the routes that raise it). This fills them in, in one pass over the
finished document, and points every error answer at ``ErrorBody`` (``api/errors.py``).
"""

from __future__ import annotations

from typing import Any

from koban.api.errors import ErrorBody

REF = "#/components/schemas/Error"
ERROR_CONTENT = {"application/json": {"schema": {"$ref": REF}}}
VALIDATION = "#/components/schemas/HTTPValidationError"

WHY = {
    "400": "The body cannot be read (not UTF-8, not JSON, empty)",
    "404": "Nothing by that id",
    "409": "Conflicts with the object's state",
    "413": "Body over the size limit",
    "422": "The request is well formed but not valid; detail says where",
    "431": "Request header fields too large (answered before any route, and the connection closed)",
}


def _add(responses: dict[str, Any], status: str) -> None:
    responses.setdefault(status, {"description": WHY[status]})


def document_errors(spec: dict[str, Any]) -> None:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    error = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error.pop("$defs", {}))
    schemas["Error"] = error
    for path, ops in spec.get("paths", {}).items():
        for op in ops.values():
            _document(path, op)
    # FastAPI's own 422 schemas are replaced by Error (whose detail admits their list form).
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _document(path: str, op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    params = op.get("parameters", [])
    ingest = "ingest" in op.get("tags", ())
    if any(p.get("in") == "path" for p in params) and not ingest:
        _add(responses, "404")  # ingest's key in the path: an unknown one is its 401
    if "requestBody" in op:
        _add(responses, "400")
        _add(responses, "413")
        _add(responses, "422")
    elif params:
        _add(responses, "422")
    _add(responses, "431")
    for status, answer in responses.items():
        if not status.isdigit() or int(status) < 400:
            continue
        content = answer.get("content")
        schema = (content or {}).get("application/json", {}).get("schema", {})
        if content is None or schema.get("$ref") == VALIDATION:
            answer["content"] = ERROR_CONTENT
