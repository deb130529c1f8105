"""Logs in Elasticsearch/OpenSearch: daily digests and log alert rules (docs/logs.md)."""
