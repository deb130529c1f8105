"""Pure routing decisions: route tree, grouping timers, silences, maintenance, inhibition, limits."""
