"""Imported calendars at work (docs/calendars.md): fetched on a timer, their events fill a schedule
(who is on call) and open tasks (seed 004). Fetching and parsing are ``koban.sources.calendar``."""
