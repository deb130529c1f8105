"""``make schemathesis``: the schemathesis CLI with ``--checks all`` against a seeded koban.

Seeds a SQLite koban as tests/api/test_schemathesis.py does (an integration of every source type,
incident 1, an admin token), serves it on a free port, and runs the CLI with the repository's
``schemathesis.toml`` plus the auth headers (admin token; the integration key for alert senders).
``EXAMPLES=200 make schemathesis`` for a larger budget (default 25 an operation, ~5,000 cases).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVE = """
import sys, uvicorn
from pathlib import Path
from koban.bootstrap.app import create_app
from koban.bootstrap.system import System
from koban.core.settings import Settings
tmp = Path(sys.argv[2])
url = f"sqlite:///{tmp / 'koban.db'}"
settings = Settings(database_url=url, data_dir=tmp, secret_key="test-secret", sqlite_synchronous="NORMAL")
app = create_app(System(settings), start_worker=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.api.test_schemathesis import _seed
    from tests.ingest.support import key_for

    from koban.testing.ports import free_port

    examples = os.environ.get("EXAMPLES", "25")
    with tempfile.TemporaryDirectory() as tmp:
        admin = _seed(f"sqlite:///{Path(tmp) / 'koban.db'}", Path(tmp))
        port = free_port()
        server = subprocess.Popen([sys.executable, "-c", SERVE, str(port), tmp])
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            config = Path(tmp) / "schemathesis.toml"
            lines = [f'headers = {{ Authorization = "Bearer {admin}" }}']
            for line in (ROOT / "schemathesis.toml").read_text().splitlines():
                lines.append(line)
                if line.startswith('include-path-regex = "^/(api/v1/ingest'):
                    lines.append(f'headers = {{ Authorization = "Bearer {key_for("generic")}" }}')
            config.write_text("\n".join(lines) + "\n")
            cli = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run"]
            cli += [f"{base}/openapi.json", "--checks", "all", "--max-examples", examples, "-w", "1"]
            # Revoking the admin's own token would turn the rest of the run into 401s.
            cli += ["--exclude-path-regex", "^/api/v1/tokens", "--suppress-health-check", "all"]
            return subprocess.call(cli)
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    raise SystemExit(main())
