"""``koban logs import-elastalert PATH...``: ElastAlert2 rule files as koban ``log_rules`` (YAML on
stdout or ``--out``), with what could not be converted reported on stderr (docs/elastalert.md)."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from koban.logs.elastalert import convert

app = typer.Typer(help="Log digests and log rules.", no_args_is_help=True)


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out += sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    return out


@app.command("import-elastalert")
def import_elastalert(
    paths: list[Path] = typer.Argument(..., help="Rule files, or folders of them (*.yaml, *.yml)."),  # noqa: B008
    cluster: str = typer.Option(..., help="The log_clusters id the rules query."),
    service: str = typer.Option(..., help="The service the rules' alerts belong to."),
    out: Path = typer.Option(None, help="Write the YAML here instead of stdout."),  # noqa: B008
) -> None:
    rules, failed = [], 0
    for path in _files(paths):
        try:
            doc = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            typer.echo(f"{path}: not read: {exc}", err=True)
            failed += 1
            continue
        if not isinstance(doc, dict):
            typer.echo(f"{path}: not a rule (a mapping was expected)", err=True)
            failed += 1
            continue
        res = convert(doc, source=path.stem, cluster=cluster, service=service)
        for problem in res.problems:
            typer.echo(f"{path}: not converted: {problem}", err=True)
        for note in res.notes:
            typer.echo(f"{path}: note: {note}", err=True)
        if res.rule is None:
            failed += 1
        else:
            rules.append(res.rule)
    ids = [r["id"] for r in rules]
    for r in rules:  # two files with the same name: make the ids unique
        if ids.count(r["id"]) > 1:
            r["id"] = f"{r['id']}-{ids[: rules.index(r)].count(r['id']) + 1}"
    text = yaml.safe_dump({"log_rules": rules}, sort_keys=False, allow_unicode=True)
    if out is not None:
        out.write_text(text)
    else:
        typer.echo(text, nl=False)
    typer.echo(f"{len(rules)} rule(s) converted, {failed} not", err=True)
    if failed:
        raise typer.Exit(1)
