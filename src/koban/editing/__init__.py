"""Editing the configuration objects (people, teams, channels, policies...) through a door that is
not the YAML file: the REST API and the settings pages call the same functions, so both validate,
store and audit an edit the same way (``objects.py``)."""
