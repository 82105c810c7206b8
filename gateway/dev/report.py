"""Composition errors as a person reads them: the Apollo code, the subgraph, the schema coordinate,
the file and line, the message; coloured on a terminal."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from graphql import GraphQLSyntaxError, parse

from gateway.composition.errors import CompositionError

_COORDINATE = re.compile(r'"?@?\b([A-Z_a-z][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*(?:\([A-Za-z_][A-Za-z0-9_]*:\))?)"?')


def coordinate_at(sdl: str, line: int, column: int) -> str | None:
    """The schema coordinate (`Type`, `Type.field`, `Type.field(arg:)`) whose definition holds line:column."""
    try:
        document = parse(sdl)
    except GraphQLSyntaxError:
        return None
    lines = sdl.splitlines(keepends=True)
    offset = sum(len(text) for text in lines[: max(0, line - 1)]) + max(0, column - 1)
    for definition in document.definitions:
        loc = definition.loc
        name = getattr(getattr(definition, "name", None), "value", None)
        if loc is None or name is None or not (loc.start <= offset <= loc.end):
            continue
        prefix = "@" if type(definition).__name__.startswith("Directive") else ""
        for member in [*(getattr(definition, "fields", None) or ()), *(getattr(definition, "values", None) or ())]:
            mloc = member.loc
            if mloc is None or not (mloc.start <= offset <= mloc.end):
                continue
            for argument in getattr(member, "arguments", None) or ():
                if argument.loc is not None and argument.loc.start <= offset <= argument.loc.end:
                    return f"{name}.{member.name.value}({argument.name.value}:)"
            return f"{name}.{member.name.value}"
        for argument in getattr(definition, "arguments", None) or ():
            if argument.loc is not None and argument.loc.start <= offset <= argument.loc.end:
                return f"{prefix}{name}({argument.name.value}:)"
        return prefix + name
    return None


def _named_type(type_node: Any) -> str:
    while not hasattr(type_node, "name"):
        type_node = type_node.type
    return str(type_node.name.value)


def locate_name(sdl: str, name: str) -> tuple[str, int, int] | None:
    """(coordinate, line, column) of `Type.field`, of the definition of `name`, or of the first field
    or argument typed `name` (so "Unknown type Strin" points at the field that says `Strin`)."""
    try:
        document = parse(sdl)
    except GraphQLSyntaxError:
        return None
    type_name, _, field_name = name.partition(".")
    uses: tuple[str, int, int] | None = None
    for definition in document.definitions:
        def_name = getattr(getattr(definition, "name", None), "value", None)
        if def_name is None or definition.loc is None:
            continue
        if def_name == type_name and not field_name:
            where = definition.loc.source.get_location(definition.loc.start)
            return def_name, where.line, where.column
        for member in getattr(definition, "fields", None) or ():
            if member.loc is None:
                continue
            where = member.loc.source.get_location(member.loc.start)
            if def_name == type_name and member.name.value == field_name:
                return f"{def_name}.{field_name}", where.line, where.column
            if uses is None and not field_name and _named_type(member.type) == name:
                uses = (f"{def_name}.{member.name.value}", where.line, where.column)
            for argument in getattr(member, "arguments", None) or ():
                if uses is None and not field_name and argument.loc is not None and _named_type(argument.type) == name:
                    at = argument.loc.source.get_location(argument.loc.start)
                    uses = (f"{def_name}.{member.name.value}({argument.name.value}:)", at.line, at.column)
    return uses


_NAME = re.compile(r"[A-Z_a-z][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")


def _coordinate(error: CompositionError, sdls: dict[str, str]) -> tuple[str | None, list[str]]:
    """The coordinate the error is about, and `file:line:col`-ready places when composition gave none."""
    for loc in error.locations:
        sdl = sdls.get(loc.subgraph)
        if sdl is not None:
            found = coordinate_at(sdl, loc.line, loc.column)
            if found is not None:
                return found, []
    match = _COORDINATE.search(error.message)
    if match:
        return match[1], []
    # No location and no Type.field in the message: look for the names it mentions in the SDL of
    # the subgraphs it names, quoted names first.
    quoted = re.findall(r'"([^"]+)"', error.message)
    names = [n for n in [*quoted, *_NAME.findall(error.message)] if n[:1].isupper() or "." in n]
    for subgraph in error.subgraphs:
        sdl = sdls.get(subgraph)
        if sdl is None:
            continue
        for name in names:
            place = locate_name(sdl, name)
            if place is not None:
                return place[0], [f"{subgraph}:{place[1]}:{place[2]}"]
    return None, []


def _display(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else absolute."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def format_errors(
    errors: Sequence[CompositionError],
    sdls: dict[str, str],
    files: dict[str, Path | None],
    color: bool,
) -> str:
    """Several lines per error: `error[CODE] subgraph(s) Coordinate`, the message, `at file:line:col`."""

    def style(text: str, **kw: object) -> str:
        return click.style(text, **kw) if color else text  # type: ignore[arg-type]

    out: list[str] = []
    for error in errors:
        subgraphs = list(error.subgraphs) or sorted({loc.subgraph for loc in error.locations})
        head = style(f"error[{error.code}]", fg="red", bold=True)
        if subgraphs:
            head += " " + style(", ".join(subgraphs), fg="cyan")
        coordinate, places = _coordinate(error, sdls)
        if coordinate:
            head += " " + style(coordinate, bold=True)
        out.append(head)
        for line in error.message.splitlines() or [""]:
            out.append(f"  {line}")
        for loc in error.locations:
            file = files.get(loc.subgraph)
            where = f"{_display(file)}:{loc.line}:{loc.column}" if file is not None else str(loc)
            out.append("  " + style(f"at {where}", dim=True))
        if not error.locations:
            for place in places:
                subgraph, _, rest = place.partition(":")
                file = files.get(subgraph)
                out.append("  " + style(f"at {_display(file) if file is not None else subgraph}:{rest}", dim=True))
    return "\n".join(out)
