"""``python -m bench.web``: the web UI's pages at scale, the name issue 15 gives the benchmark.

The benchmark itself is ``bench/web_pages.py`` (its docstring says what it seeds and measures); this
module only runs it as ``__main__``, with the same arguments:

    .venv/bin/python -m bench.web [--monitors 100000] [--schedules 1000] [--incidents 50000]
                                  [--requests 200]
"""

from __future__ import annotations

import runpy

if __name__ == "__main__":
    runpy.run_module("bench.web_pages", run_name="__main__", alter_sys=True)
