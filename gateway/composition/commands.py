"""`fedgate compose` and `fedgate check` (registered on the `fedgate` click group by gateway/cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .compose import compose as compose_subgraphs
from .config import SupergraphConfigError, load_supergraph_config, read_subgraphs
from .errors import CompositionResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _print_errors(result: CompositionResult) -> None:
    for e in result.errors:
        click.echo(f"error[{e.code}]: {e.message}", err=True)
        if e.locations:
            click.echo("  at " + ", ".join(str(loc) for loc in e.locations), err=True)
    click.echo(f"fedgate: composition failed with {len(result.errors)} error(s)", err=True)


def compose_config(config_path: str) -> CompositionResult:
    """Compose the subgraphs a rover config lists (raises SupergraphConfigError)."""
    config = load_supergraph_config(config_path)
    return compose_subgraphs(read_subgraphs(config))


@click.command("compose")
@click.option("--config", "config_path", required=True, type=click.Path(), help="rover supergraph config (YAML).")
@click.option("--output", "output", default=None, type=click.Path(), help="Write the supergraph here instead of stdout.")
@click.option("--hints/--no-hints", default=False, help="Print composition hints on stderr.")
def compose(config_path: str, output: str | None, hints: bool) -> None:
    """Compose subgraph schemas into a supergraph SDL (Apollo Federation 2 format)."""
    try:
        result = compose_config(config_path)
    except SupergraphConfigError as exc:
        click.echo(f"fedgate: error: {exc.message}", err=True)
        sys.exit(EXIT_USAGE)
    if hints:
        for h in result.hints:
            click.echo(f"hint[{h.code}]: {h.message}", err=True)
    if result.errors or result.supergraph_sdl is None:
        _print_errors(result)
        sys.exit(EXIT_FAILED)
    if output is None:
        click.echo(result.supergraph_sdl)
    else:
        # Byte-exact what @apollo/composition returns (no trailing newline), like schema/supergraph.graphql.
        Path(output).write_text(result.supergraph_sdl)
    sys.exit(EXIT_OK)


def _locate(coordinate: str | None, sources: list[tuple[str, Path | None, str]]) -> tuple[str, int] | None:
    """(file, line) where a coordinate (`Type` or `Type.field`) is declared in some subgraph SDL file."""
    from graphql import GraphQLSyntaxError, parse

    if coordinate is None:
        return None
    type_name, _, field_name = coordinate.partition(".")
    fallback: tuple[str, int] | None = None
    for _, file, sdl in sources:
        if file is None:
            continue
        try:
            doc = parse(sdl)
        except GraphQLSyntaxError:
            continue
        for d in doc.definitions:
            if getattr(getattr(d, "name", None), "value", None) != type_name:
                continue
            if fallback is None and d.loc is not None:
                fallback = (str(file), d.loc.source.get_location(d.loc.start).line)
            for f in list(getattr(d, "fields", None) or ()) + list(getattr(d, "values", None) or ()):
                if field_name and f.name.value == field_name and f.loc is not None:
                    return (str(file), f.loc.source.get_location(f.loc.start).line)
    return fallback


def _gh_escape(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


@click.command("check")
@click.option("--config", "config_path", required=True, type=click.Path(), help="rover supergraph config (YAML).")
@click.option("--base", "base", required=True, type=click.Path(), help="The current (old) supergraph SDL.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
def check(config_path: str, base: str, fmt: str) -> None:
    """Compose, then classify API changes against --base: exit 0 safe, 1 breaking or not composing, 2 usage."""
    import json

    from .check import BREAKING, DANGEROUS, diff_supergraphs
    from .compose import compose as compose_subgraphs

    try:
        config = load_supergraph_config(config_path)
        inputs = read_subgraphs(config)
        old_sdl = Path(base).read_text()
    except SupergraphConfigError as exc:
        click.echo(f"fedgate: error: {exc.message}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        click.echo(f"fedgate: error: cannot read {base}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    files = {s.name: s.file for s in config.subgraphs}
    sources = [(i.name, files.get(i.name), str(i.sdl)) for i in inputs]
    result = compose_subgraphs(inputs)
    if result.errors or result.supergraph_sdl is None:
        if fmt == "json":
            click.echo(json.dumps({"composed": False, "errors": [e.to_dict() for e in result.errors]}, indent=2))
        elif fmt == "github":
            for e in result.errors:
                loc = next((x for x in e.locations if files.get(x.subgraph) is not None), None)
                file = files.get(loc.subgraph) if loc is not None else next(
                    (files[s] for s in e.subgraphs if files.get(s) is not None), None)
                where = f" file={file}" if file is not None else ""
                if loc is not None:
                    where += f",line={loc.line},col={loc.column}"
                click.echo(f"::error{where}::{_gh_escape(f'{e.code}: {e.message}')}")
        else:
            _print_errors(result)
        sys.exit(EXIT_FAILED)
    try:
        changes = diff_supergraphs(old_sdl, result.supergraph_sdl)
    except Exception as exc:  # noqa: BLE001 - an unreadable base is a usage error
        click.echo(f"fedgate: error: invalid base supergraph {base}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    breaking = [c for c in changes if c.severity == BREAKING]
    if fmt == "json":
        click.echo(json.dumps({
            "composed": True,
            "changes": [{"severity": c.severity, "code": c.code, "message": c.message, "coordinate": c.coordinate}
                        for c in changes],
        }, indent=2))
    elif fmt == "github":
        for c in changes:
            if c.severity == "safe":
                level = "notice"
            else:
                level = "error" if c.severity == BREAKING else "warning"
            found = _locate(c.coordinate, sources)
            where = f" file={found[0]},line={found[1]}" if found else ""
            click.echo(f"::{level}{where}::{_gh_escape(f'{c.severity} change ({c.code}): {c.message}')}")
    else:
        for c in changes:
            click.echo(f"{c.severity.upper():9} {c.code}: {c.message}")
        n_dangerous = sum(1 for c in changes if c.severity == DANGEROUS)
        click.echo(f"{len(breaking)} breaking, {n_dangerous} dangerous, {len(changes) - len(breaking) - n_dangerous} safe")
    sys.exit(EXIT_FAILED if breaking else EXIT_OK)
