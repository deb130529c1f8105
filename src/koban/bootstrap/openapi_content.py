"""What FastAPI's OpenAPI document cannot infer about answers and parameters, filled in from the
routes' own conventions so the document says what the server does:

- an operation with a ``format`` query parameter offering ``csv`` answers ``text/csv`` as well as
  JSON (the reports);
- a date-time (query parameter or body field) is read by pydantic, which also takes a number:
  epoch seconds, or milliseconds past 2e10; the document admits those, years 1 to 9999;
- a boolean body field is read by pydantic, which also takes 0 and 1.
"""

from __future__ import annotations

from typing import Any

CSV = {"text/csv": {"schema": {"type": "string"}}}
EPOCH = {"type": "number", "minimum": -62135596800000, "maximum": 253402300799999}
LAX_BOOL = {"enum": [0, 1]}


def _offers_csv(param: dict[str, Any]) -> bool:
    schema = param.get("schema", {})
    options = [schema, *schema.get("anyOf", ())]
    return any("csv" in (o.get("enum") or ()) or o.get("const") == "csv" for o in options)


def _is_datetime(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "date-time" or any(_is_datetime(s) for s in schema.get("anyOf", ()))


def _admit_epoch(param: dict[str, Any]) -> None:
    schema = param.get("schema", {})
    if param.get("in") == "query" and _is_datetime(schema):
        param["schema"] = {"anyOf": [*schema.get("anyOf", [schema]), EPOCH]}
        if "default" in schema:
            param["schema"]["default"] = schema["default"]


def _lax(schema: Any) -> Any:
    """A body schema as pydantic reads it (lax mode): date-times also as numbers, booleans as 0/1."""
    if isinstance(schema, list):
        return [_lax(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "string" and schema.get("format") == "date-time":
        rest = {k: v for k, v in schema.items() if k in ("title", "description", "default")}
        return {"anyOf": [{"type": "string", "format": "date-time"}, EPOCH], **rest}
    if schema.get("type") == "boolean":
        rest = {k: v for k, v in schema.items() if k in ("title", "description", "default")}
        return {"anyOf": [{"type": "boolean"}, LAX_BOOL], **rest}
    return {k: _lax(v) for k, v in schema.items()}


def document_content(spec: dict[str, Any]) -> None:
    schemas = spec.get("components", {}).get("schemas", {})
    for name, schema in list(schemas.items()):
        schemas[name] = _lax(schema)
    for ops in spec.get("paths", {}).values():
        for op in ops.values():
            params = op.get("parameters", [])
            for param in params:
                _admit_epoch(param)
            ok = op.get("responses", {}).get("200")
            if ok and any(p.get("name") == "format" and _offers_csv(p) for p in params):
                ok.setdefault("content", {}).update(CSV)
