"""Print the supergraph exactly as `@apollo/composition` does (internals-js/src/print.ts)."""

from __future__ import annotations

from contextvars import ContextVar

from .model import MArgument, MDirective, MDirectiveDef, MField, MType, Supergraph
from .subgraph import ENUM, INPUT_OBJECT, INTERFACE, OBJECT, SCALAR, UNION, type_str
from .values import gql_string, print_value

INDENT = "  "
# Name @inaccessible is printed under, per print (subgraphs may rename it, e.g. `@federation__inaccessible`).
_INACCESSIBLE: ContextVar[str] = ContextVar("inaccessible_name", default="inaccessible")


def locale_key(name: str) -> tuple[tuple[tuple[int, str], ...], tuple[int, ...]]:
    """A sort key reproducing JS `localeCompare` (ICU) on GraphQL names."""
    primary: list[tuple[int, str]] = []
    case: list[int] = []
    for c in name:
        if c == "_":
            primary.append((0, c))
        elif c.isdigit():
            primary.append((1, c))
        else:
            primary.append((2, c.lower()))
        case.append(1 if c.isupper() else 0)
    return tuple(primary), tuple(case)


def _block_string(value: str, prefer_multiple_lines: bool) -> str:
    single = "\n" not in value
    leading_space = value[:1] in (" ", "\t")
    multiple = not single or value.endswith('"') or value.endswith("\\") or prefer_multiple_lines
    result = ""
    if multiple and not (single and leading_space):
        result += "\n"
    result += value
    if multiple:
        result += "\n"
    return '"""' + result.replace('"""', '\\"""') + '"""'


def _description(desc: str | None, indentation: str = "", first: bool = True) -> str:
    if desc is None:
        return ""
    block = _block_string(desc, len(desc) > 70)
    prefix = "\n" + indentation if indentation and not first else indentation
    return prefix + block.replace("\n", "\n" + indentation) + "\n"


def _applied(directives: list[MDirective], on_new_lines: bool = False, end_with_newline: bool | None = None) -> str:
    if not directives:
        return ""
    if end_with_newline is None:
        end_with_newline = on_new_lines
    if on_new_lines:
        return "\n" + INDENT + ("\n" + INDENT).join(d.print() for d in directives) + ("\n" if end_with_newline else "")
    return " " + " ".join(d.print() for d in directives)


def _arg_directives(a: MArgument) -> list[MDirective]:
    return ([MDirective(_INACCESSIBLE.get())] if a.inaccessible else []) + a.directives


def _print_arg(a: MArgument) -> str:
    assert a.type is not None
    s = f"{a.name}: {type_str(a.type)}"
    if a.default is not None:
        s += " = " + print_value(a.default)
    return s + _applied(_arg_directives(a))


def _print_args(args: list[MArgument], indentation: str = "") -> str:
    if not args:
        return ""
    if all(not a.description for a in args):
        return "(" + ", ".join(_print_arg(a) for a in args) + ")"
    formatted = "\n".join(
        _description(a.description, INDENT + indentation, i == 0) + INDENT + indentation + _print_arg(a)
        for i, a in enumerate(args))
    return f"(\n{formatted}\n{indentation})"


def _field_directives(f: MField) -> list[MDirective]:
    return ([MDirective(_INACCESSIBLE.get())] if f.inaccessible else []) + f.join + f.directives


def _print_fields(fields: list[MField], is_input: bool) -> str:
    items = []
    for i, f in enumerate(fields):
        assert f.type is not None
        args = "" if is_input else _print_args(list(f.args.values()), INDENT)
        default = f" = {print_value(f.default)}" if is_input and f.default is not None else ""
        items.append(_description(f.description, INDENT, i == 0) + INDENT + f"{f.name}{args}: {type_str(f.type)}"
                     + default + _applied(_field_directives(f)))
    return "{\n" + "\n".join(items) + "\n}" if items else ""


def _type_directives(t: MType) -> list[MDirective]:
    return (t.join_implements + t.join_types + ([MDirective(_INACCESSIBLE.get())] if t.inaccessible else [])
            + t.join_members + t.directives)


def print_type(t: MType) -> str:
    ds = _type_directives(t)
    head = _description(t.description)
    if t.kind in (OBJECT, INTERFACE, INPUT_OBJECT):
        kw = {OBJECT: "type", INTERFACE: "interface", INPUT_OBJECT: "input"}[t.kind]
        impl = " implements " + " & ".join(t.implements) if t.implements and t.kind != INPUT_OBJECT else ""
        fields = list(t.fields.values())
        return (head + f"{kw} {t.name}{impl}" + _applied(ds, True, bool(fields))
                + (" " if not ds and fields else "") + _print_fields(fields, t.kind == INPUT_OBJECT))
    if t.kind == UNION:
        members = " = " + " | ".join(t.members) if t.members else ""
        return head + f"union {t.name}" + _applied(ds, True, bool(t.members)) + members
    if t.kind == ENUM:
        vals = []
        for i, v in enumerate(t.values.values()):
            vds = ([MDirective(_INACCESSIBLE.get())] if v.inaccessible else []) + v.join + v.directives
            vals.append(_description(v.description, INDENT, i == 0) + INDENT + v.name + _applied(vds))
        block = "{\n" + "\n".join(vals) + "\n}" if vals else ""
        return head + f"enum {t.name}" + _applied(ds, True, bool(vals)) + (" " if not ds and vals else "") + block
    assert t.kind == SCALAR
    return head + f"scalar {t.name}" + _applied(ds, True, False)


def print_directive_def(d: MDirectiveDef) -> str:
    return (_description(d.description) + f"directive @{d.name}" + _print_args(list(d.args.values()))
            + (" repeatable" if d.repeatable else "") + " on " + " | ".join(d.locations))


_JOIN_DIRECTIVES = {
    "join__enumValue": "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE",
    "join__graph": "directive @join__graph(name: String!, url: String!) on ENUM_VALUE",
    "join__implements": "directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE",
    "join__type": "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, "
    "resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | "
    "ENUM | INPUT_OBJECT | SCALAR",
    "join__unionMember": "directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION",
    "link": "directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA",
    "tag": "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | "
    "ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA",
    "inaccessible": "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | "
    "SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION",
}


def _join_field_def(version: tuple[int, int]) -> str:
    args = ("graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, "
            "override: String, usedOverridden: Boolean")
    if version >= (0, 4):
        args += ", overrideLabel: String"
    if version >= (0, 5):
        args += ", contextArguments: [join__ContextArgument!]"
    return f"directive @join__field({args}) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION"


_LINK_PURPOSE = '''enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}'''


def print_supergraph(sg: Supergraph) -> str:
    """The supergraph SDL, in Apollo's layout and order."""
    _INACCESSIBLE.set(sg.directive_names.get("inaccessible", "inaccessible"))
    links = [
        MDirective("link", [("url", '"https://specs.apollo.dev/link/v1.0"')]),
        MDirective("link", [("url", f'"https://specs.apollo.dev/join/v{sg.join_version[0]}.{sg.join_version[1]}"'),
                            ("for", "EXECUTION")]),
        *sg.links,
    ]
    roots = [f"{INDENT}{op}: {sg.roots[op]}" for op in ("query", "mutation", "subscription") if op in sg.roots]
    schema = _description(sg.schema_description) + "schema" + _applied(links + sg.schema_directives, True, bool(roots))
    schema += "{\n" + "\n".join(roots) + "\n}" if roots else ""

    directives: dict[str, str] = {}
    for name, text in _JOIN_DIRECTIVES.items():
        if name in ("tag", "inaccessible"):
            continue
        directives[name] = text
    directives["join__field"] = _join_field_def(sg.join_version)
    if sg.join_version >= (0, 4):
        directives["join__directive"] = ("directive @join__directive(graphs: [join__Graph!], name: String!, args: "
                                         "join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION")
    for canonical, shown in sg.directive_names.items():
        directives[shown] = _JOIN_DIRECTIVES[canonical].replace(f"@{canonical}", f"@{shown}", 1)
    from .access_control import DEFINITIONS, SCALARS

    for name in sg.spec_directives:
        directives[name] = DEFINITIONS[name]
    if sg.uses_context:
        directives["context"] = "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION"
        directives["context__fromContext"] = (
            "directive @context__fromContext(field: context__ContextFieldValue) on ARGUMENT_DEFINITION")
    for name, d in sg.directive_defs.items():
        directives[name] = print_directive_def(d)

    types: dict[str, str] = {name: print_type(t) for name, t in sg.types.items()}
    types["join__FieldSet"] = "scalar join__FieldSet"
    graph_values = "\n".join(
        f"{INDENT}{value} @join__graph(name: {_q(name)}, url: {_q(url)})" for value, name, url in sg.graphs)
    types["join__Graph"] = "enum join__Graph {\n" + graph_values + "\n}"
    types["link__Import"] = "scalar link__Import"
    types["link__Purpose"] = _LINK_PURPOSE
    if sg.uses_context:
        types["context__ContextFieldValue"] = "scalar context__ContextFieldValue"
    for name in sg.spec_directives:
        if name in SCALARS:
            types[SCALARS[name]] = f"scalar {SCALARS[name]}"
    if sg.join_version >= (0, 4):
        types["join__DirectiveArguments"] = "scalar join__DirectiveArguments"
    if sg.join_version >= (0, 5):
        types["join__FieldValue"] = "scalar join__FieldValue"
        types["join__ContextArgument"] = ("input join__ContextArgument {\n  name: String!\n  type: String!\n"
                                          "  context: String!\n  selection: join__FieldValue!\n}")

    parts = [schema]
    parts += [directives[n] for n in sorted(directives, key=locale_key)]
    parts += [types[n] for n in sorted(types, key=locale_key)]
    return "\n\n".join(parts)


def _q(s: str) -> str:
    return gql_string(s)
