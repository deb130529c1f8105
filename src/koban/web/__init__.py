"""The web UI (to come)."""
