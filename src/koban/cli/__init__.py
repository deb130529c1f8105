"""The ``koban`` command: one CLI, servers and workers as subcommands."""
