"""Engine-side adapters: build an integration's deps (stores, actions port, lookups) from the System.

Integrations under ``koban/channels`` and ``koban/sources`` never import the engine; these modules
are the only place both meet. Each exposes ``routes(system)`` listed in ``bootstrap/mounts.py``.
"""
