"""The composition root: builds the running system (database, clock, catalog, channels, workers, routes)."""
