"""Pure domain types and decisions: no I/O, no clock reads (``now`` is always passed in)."""
