"""koban: self-hosted monitoring and on-call."""

__version__ = "0.1.0"
