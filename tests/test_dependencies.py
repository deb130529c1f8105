"""Every third-party module koban imports is declared in pyproject.toml, not only reached through
another package's dependencies; and tzdata, which zoneinfo needs on hosts without zone data,
is declared though nothing imports it (issue 17, item 20)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "koban"
# Test doubles and test helpers may use the dev extra (aiosmtpd, trustme, ...).
DEV_ALLOWED = ("fakes", "testing")
# Parts of a declared package, versioned by it: FastAPI's Starlette, uvicorn[standard]'s uvloop,
# aiohttp's multidict.
BOUND_BY = {"starlette": "fastapi", "uvloop": "uvicorn", "multidict": "aiohttp"}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    # An optional extra (aws: botocore) is imported by koban only where it is asked for, and says so
    # when it is missing (logs/sigv4.py); it counts as declared.
    extras = {
        _name(r) for name, reqs in project["optional-dependencies"].items() if name != "dev" for r in reqs
    }
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]}
    return runtime | extras, runtime | extras | dev


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_every_imported_third_party_module_is_declared():
    runtime, with_dev = _declared()
    dists = packages_distributions()
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        allowed = with_dev if path.relative_to(SRC).parts[0] in DEV_ALLOWED else runtime
        for module in _imports(path) - set(sys.stdlib_module_names) - {"koban", "__future__"}:
            names = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
            names |= {BOUND_BY[module]} if module in BOUND_BY else set()
            if not names & allowed:
                missing.append(f"{path.relative_to(ROOT)}: {module} ({', '.join(sorted(names))})")
    assert not missing, "imported but not declared in pyproject.toml:\n" + "\n".join(missing)


def test_tzdata_is_declared_directly():
    runtime, _ = _declared()
    assert "tzdata" in runtime
