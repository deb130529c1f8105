"""Load a YAML config file, validate it, and report every problem with its line number."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from koban.config.model import ConfigFile
from koban.config.references import check_references


@dataclass(frozen=True, slots=True)
class Problem:
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


class ConfigError(ValueError):
    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = problems
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(str(p) for p in problems))


def _to_python(
    node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int], dups: list[Problem]
) -> Any:
    """Build plain data from the YAML node tree, remembering the line of every path.

    A key given twice in one mapping is a problem, not "last one wins": a pasted second
    ``monitors:`` section would otherwise silently replace the first."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            if key in out:
                first = lines.get((*path, key))
                dups.append(
                    Problem(
                        key_node.start_mark.line + 1,
                        _dotted((*path, key)),
                        f"given twice (first on line {first})",
                    )
                )
            out[key] = _to_python(value_node, (*path, key), lines, dups)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, (*path, i), lines, dups) for i, v in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:int" and ":" in node.value:
        # YAML 1.1 reads 10:00 as the base-60 integer 600; a schedule's 10:00 is a time of day.
        return node.value
    return yaml.safe_load(yaml.serialize(node))


def _line_for(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_config(text: str, source: str = "") -> ConfigFile:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ConfigError(
            [Problem(line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")], source
        ) from None
    lines: dict[tuple[Any, ...], int] = {}
    dups: list[Problem] = []
    data = _to_python(node, (), lines, dups) if node is not None else {}
    if dups:
        raise ConfigError(dups, source)
    if not isinstance(data, dict):
        raise ConfigError([Problem(1, "", "the file must be a mapping of people, rotations, ...")], source)
    try:
        cfg = ConfigFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            problems.append(Problem(_line_for(loc, lines), _dotted(loc), msg))
        raise ConfigError(problems, source) from None
    ref_problems = [Problem(_line_for(loc, lines), _dotted(loc), msg) for loc, msg in check_references(cfg)]
    if ref_problems:
        raise ConfigError(ref_problems, source)
    return cfg


def load_config(path: str | Path) -> ConfigFile:
    p = Path(path)
    return parse_config(p.read_text(encoding="utf-8"), str(p))
