"""Logins, sessions, API tokens and permissions (to come)."""
