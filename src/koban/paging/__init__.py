"""Incidents, escalation timers, deliveries, the worker and the actions port's implementation."""
