"""Reports: response times, time to wake, load, availability (to come)."""
