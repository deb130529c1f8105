"""Runs the configured monitors: schedules probes, stores history and rollups, raises alerts."""
