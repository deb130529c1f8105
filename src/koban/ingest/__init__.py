"""The ingest edge: integration keys, limits, the inbox (group commit) and its drain."""
