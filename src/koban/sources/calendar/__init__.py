"""Imported calendars: fetch an iCal URL or a CalDAV collection (``fetch.py``, I/O) and read it into
plain events (``parse.py``, pure). What the events do (shifts, tasks) is ``koban.calendars``."""
