"""HTTP: the REST API (FastAPI, OpenAPI at /openapi.json) and the lean ingest routes."""
