"""On-call schedules, overrides and calendars (to come)."""
