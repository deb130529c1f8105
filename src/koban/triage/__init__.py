"""Alert events -> incidents: dedup (key clocks), muting, grouping, heartbeats; pure rules in koban.routing and koban.domain."""
