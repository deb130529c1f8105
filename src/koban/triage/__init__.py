"""Alert events -> incidents: dedup (key clocks), muting, grouping, heartbeats.

The pure rules live in koban.routing and koban.domain; this package does their I/O.
"""
