"""Foundations every capability may use: the injected clock, settings, metrics, outbound HTTP."""
