"""Fakes of external services that follow the real protocols: for tests and the demo."""
