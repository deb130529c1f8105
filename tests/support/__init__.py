"""Test helpers shared across test folders (peers, ports, a webhook recorder)."""
