"""Outbound channels: one folder per vendor behind ``Channel.send`` (see base.py)."""
