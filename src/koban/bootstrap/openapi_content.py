"""What FastAPI's OpenAPI document cannot infer about answers and parameters, filled in from the
routes' own conventions so the document says what the server does:

- an operation with a ``format`` query parameter offering ``csv`` answers ``text/csv`` as well as
  JSON (the reports);
- a date-time query parameter is read by pydantic, which also takes epoch seconds: the document
  admits those (below 1e10: larger numbers pydantic would read as milliseconds).
"""

from __future__ import annotations

from typing import Any

CSV = {"text/csv": {"schema": {"type": "string"}}}
EPOCH = {"type": "number", "minimum": 0, "maximum": 1e10}


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


def document_content(spec: dict[str, Any]) -> None:
    for ops in spec.get("paths", {}).values():
        for op in ops.values():
            params = op.get("parameters", [])
            for param in params:
                _admit_epoch(param)
            ok = op.get("responses", {}).get("200")
            if ok and any(p.get("name") == "format" and _offers_csv(p) for p in params):
                ok.setdefault("content", {}).update(CSV)
