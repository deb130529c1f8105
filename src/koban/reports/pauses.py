"""Building a report without the cyclic garbage collector's pauses.

A year's report makes hundreds of thousands of small objects (clocks, rows, dicts) that all live
until the answer is sent: none is garbage, yet each 700 allocations start a collection, and the
older generations' ones walk every live object of the process (the catalog's 100,000 monitors
included) again and again. Profiles at 50,000 incidents and monitors put a third of the
availability and response reports there. Turned off only around synchronous code (never across an
``await``, where other tasks would run without it); reference counting frees everything as before,
and the collector resumes where it was.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
