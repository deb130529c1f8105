"""Free loopback ports; the one implementation lives in koban.testing so benches share it."""

from koban.testing.ports import LOOPBACK, free_port

__all__ = ["LOOPBACK", "free_port"]
