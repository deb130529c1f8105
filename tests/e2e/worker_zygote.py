"""A pre-imported parent that forks ``koban worker`` processes on demand, for the crash test.

Importing koban takes 1-2 s on a loaded CI machine; fifty SIGKILLs at that price would take minutes.
This parent imports everything once and never starts an event loop or opens a database, so each
forked child is a clean process that runs exactly ``koban worker --no-migrate`` (the CLI itself).

Protocol on stdin/stdout, one line each: ``spawn`` -> the child's pid; ``kill PID`` -> SIGKILL,
reap, ``dead``; ``term PID`` -> SIGTERM, reap, the exit status. Children log to argv[1].
"""

from __future__ import annotations

import os
import signal
import sys


def child(log_path: str) -> None:
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    from koban.cli.main import app

    try:
        app(["worker", "--no-migrate"], prog_name="koban")
    except SystemExit as exc:
        os._exit(exc.code if isinstance(exc.code, int) else 1)
    os._exit(0)


def main() -> None:
    log_path = sys.argv[1]
    import koban.bootstrap.system  # noqa: F401
    import koban.cli.main  # noqa: F401  (the expensive part, paid once)

    print("ready", flush=True)
    for line in sys.stdin:
        cmd, *arg = line.split()
        if cmd == "spawn":
            pid = os.fork()
            if pid == 0:
                child(log_path)
            print(pid, flush=True)
        elif cmd in ("kill", "term"):
            pid = int(arg[0])
            os.kill(pid, signal.SIGKILL if cmd == "kill" else signal.SIGTERM)
            _, status = os.waitpid(pid, 0)
            print("dead" if cmd == "kill" else os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    main()
