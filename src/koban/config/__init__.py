"""Configuration as code: the YAML model (model.py), loading with line numbers (loader.py), apply.py."""

# Monitors live in their own module; importing it here completes ConfigFile whichever module loads first.
from koban.config import model_monitors as _model_monitors  # noqa: E402,F401
