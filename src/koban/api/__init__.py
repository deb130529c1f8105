"""HTTP: the REST API (FastAPI, OpenAPI at /openapi.json); the ingest routes are in ``koban.ingest``."""
