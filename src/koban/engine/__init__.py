"""The I/O side: transactions, the durable queues, workers, ingest. Decisions live in koban.domain."""
