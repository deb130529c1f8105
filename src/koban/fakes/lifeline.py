"""The demo's fakes are child processes that must not outlive ``koban demo``.

An ``atexit`` hook is not enough: uvicorn re-raises the SIGTERM it caught, so the demo dies by the
signal and its exit hooks never run (and SIGKILL skips them anyway). So each child is started with
``--exit-with-parent PID`` and watches that PID itself: when its parent is gone, it ends too.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time

POLL_SECONDS = 1.0


def start_child(module: str, args: list[str]) -> subprocess.Popen[bytes]:
    """``python -m module args``, ended with this process: on a clean exit, and by itself otherwise."""
    proc = subprocess.Popen([sys.executable, "-m", module, *args, "--exit-with-parent", str(os.getpid())])
    atexit.register(proc.terminate)
    return proc


def exit_with_parent(parent_pid: int | None) -> None:
    """In the child: a daemon thread that sends this process SIGTERM once ``parent_pid`` is gone."""
    if not parent_pid:
        return

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
