"""Inbound sources: one module per monitor, each turning a request into AlertEvents."""
