"""The package structure, checked without import-linter: no cycle between koban's top-level packages,
no module grown into the place where everything goes (STYLE.md, habits 14 and 16), and no decision
that reads the wall clock.

Every ``koban`` import counts, wherever it is written: at module level, inside a function (a lazy
import is still a dependency) or under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import koban

SRC = Path(koban.__file__).resolve().parent
ROOT = "koban"
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name of the file
    imported: str  # dotted module name it imports
    where: str  # file:line

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} ({self.where})"


def _imports(path: Path, base: Path = SRC.parent) -> list[Import]:
    """Every ``koban.*`` import in the file at ``path`` (``base``: the directory holding ``koban/``)."""
    rel = path.relative_to(base)
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    importer = ".".join(parts)
    package = parts if path.name == "__init__.py" else parts[:-1]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the importing module's package, `level - 1` up
                anchor = package[: len(package) - (node.level - 1)]
                module = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from koban import paging` imports the package koban.paging (`__version__`: koban itself)
            targets = [_submodule(base, a.name) for a in node.names] if module == ROOT else [module]
        else:
            continue
        where = f"{rel}:{node.lineno}"
        found += [Import(importer, t, where) for t in targets if t.startswith(f"{ROOT}.")]
    return found


def _submodule(base: Path, name: str) -> str:
    root = base / ROOT
    return f"{ROOT}.{name}" if (root / name).is_dir() or (root / f"{name}.py").is_file() else ROOT


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def package_graph() -> dict[str, dict[str, list[Import]]]:
    """Top-level package -> top-level package it imports -> the imports that make the edge."""
    graph: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(SRC.rglob("*.py")):
        for imp in _imports(path):
            src, dst = _top(imp.importer), _top(imp.imported)
            if src is not None and dst is not None and src != dst:
                graph[src][dst].append(imp)
    return graph


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None. Depth-first, visiting nodes and edges in sorted order."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_find_cycle_names_the_packages_in_order():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y2"}, "y2": {"y"}}) == ["y", "y2", "y"]


def test_imports_are_found_in_functions_under_type_checking_and_relative(tmp_path):
    module = tmp_path / "koban" / "paging" / "probe.py"
    module.parent.mkdir(parents=True)
    (tmp_path / "koban" / "routing").mkdir()
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from koban.triage.alerts import x\n"
        "def f():\n    import koban.db.engine\n"
        "from ..core import clock\n"
        "from . import backoff\n"
        "from koban import routing, __version__\n",
        encoding="utf-8",
    )
    found = _imports(module, base=tmp_path)
    assert {i.importer for i in found} == {"koban.paging.probe"}
    assert sorted(i.imported for i in found) == [
        "koban.core",
        "koban.db.engine",
        "koban.paging",
        "koban.routing",
        "koban.triage.alerts",
    ]


def test_top_level_packages_do_not_import_each_other_in_a_cycle():
    graph = package_graph()
    cycle = find_cycle({src: set(dsts) for src, dsts in graph.items()})
    if cycle is None:
        return
    lines = [f"import cycle between koban's top-level packages: {' -> '.join(cycle)}"]
    for src, dst in zip(cycle, cycle[1:], strict=False):
        lines.append(f"  {src} -> {dst}:")
        lines += [f"    {imp}" for imp in graph[src][dst]]
    raise AssertionError("\n".join(lines))


def test_no_module_exceeds_the_line_limit():
    too_long = {
        str(path.relative_to(SRC.parent)): n
        for path in sorted(SRC.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines (split them by concern): " + ", ".join(
        f"{path} ({n})" for path, n in too_long.items()
    )


def _pure_modules() -> list[Path]:
    """The files under the purity contract in pyproject.toml (import-linter's module patterns)."""
    import fnmatch
    import tomllib

    config = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(
        c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith("Decisions are pure")
    )
    patterns = contract["source_modules"]
    files = []
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if any(fnmatch.fnmatchcase(name, p) or name.startswith(p + ".") for p in patterns):
            files.append(path)
    return files


def test_decisions_never_read_the_wall_clock():
    """import-linter keeps ``time`` out of them; this keeps out ``datetime.now()`` and its kin, which
    need no forbidden import. A decision takes ``now`` from its caller."""
    files = _pure_modules()
    assert len(files) > 20, "the contract's module patterns matched too little: is pyproject.toml read?"
    reads = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"now", "utcnow", "today"}
            ):
                reads.append(f"{path.relative_to(SRC.parent)}:{node.lineno} .{node.func.attr}()")
    assert not reads, "decisions read the clock (take `now` instead): " + ", ".join(reads)
