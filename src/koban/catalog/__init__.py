"""The configuration snapshot each instance keeps (loaded from the config tables) and config apply."""
