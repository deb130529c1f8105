"""Log digests and log alert rules on Elasticsearch/OpenSearch (to come)."""
