"""Configuration as code: the YAML model (model.py), loading with line numbers (loader.py)."""
