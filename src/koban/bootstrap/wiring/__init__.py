"""Adapters: build an integration's deps (stores, actions port, lookups) from the System.

Integrations under ``koban/channels`` and ``koban/sources`` never import paging, ingest or the
system; these modules are the only place both meet. ``links``, ``slack`` and ``twilio`` expose
``routes(system)``, listed in ``bootstrap/mounts.py``.
"""
