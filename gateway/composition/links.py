"""`@link` resolution: which federation version a subgraph uses and how directives are named in it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from graphql import (
    ConstDirectiveNode,
    DirectiveNode,
    DocumentNode,
    ListValueNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    ValueNode,
)

from .errors import CompositionError
from .values import print_value

FEDERATION_IDENTITY = "https://specs.apollo.dev/federation"
LINK_IDENTITY = "https://specs.apollo.dev/link"
APOLLO_SPECS = "https://specs.apollo.dev/"

# Directives each federation version adds (internals-js/src/specs/federationSpec.ts).
_FED_ADDITIONS: dict[int, tuple[str, ...]] = {
    0: ("key", "requires", "provides", "external", "tag", "extends", "shareable", "inaccessible", "override"),
    1: ("composeDirective",),
    3: ("interfaceObject",),
    5: ("authenticated", "requiresScopes"),
    6: ("policy",),
    8: ("context", "fromContext"),
    9: ("cost", "listSize"),
    12: ("cacheTag",),
}
MAX_FED_MINOR = 14
FED1_DIRECTIVES = ("key", "requires", "provides", "external", "extends", "tag")
# Types a federation link brings (never merged into the supergraph).
_FED_TYPES = ("FieldSet", "Scope", "Policy", "ContextFieldValue")

_URL_RE = re.compile(r"^(?P<identity>https?://.+)/v(?P<major>\d+)\.(?P<minor>\d+)/?$")


def federation_directives(minor: int) -> list[str]:
    """The federation directive names available at federation v2.<minor>."""
    names: list[str] = []
    for added_in, added in sorted(_FED_ADDITIONS.items()):
        if added_in <= minor:
            names.extend(added)
    return names


@dataclass(slots=True)
class Link:
    """One `@link` application."""

    url: str
    identity: str
    version: tuple[int, int]
    alias: str | None
    imports: list[tuple[str, str]]  # (original "@key" / "Type", name in schema)

    @property
    def spec_name(self) -> str:
        return self.identity.rstrip("/").rsplit("/", 1)[-1]

    @property
    def name_in_schema(self) -> str:
        return self.alias or self.spec_name

    def directive_name(self, name: str) -> str:
        """The name the schema uses for this spec's directive `@name` (link spec v1.0, as Apollo's
        `directiveNameInSchemaForCoreArguments`): the import's alias, else `name` itself when imported,
        else the spec's own directive under the spec's name, else `<name in schema>__<name>`."""
        for original, local in self.imports:
            if original == "@" + name:
                return local.lstrip("@")
        if name == self.spec_name:
            return self.name_in_schema
        return f"{self.name_in_schema}__{name}"

    def owns(self, name: str) -> bool:
        """True when the directive or type `name` of a schema belongs to this spec (its machinery)."""
        prefix = self.name_in_schema
        if name == prefix or name.startswith(prefix + "__"):
            return True
        return any(local.lstrip("@") == name for _, local in self.imports)


class LinkedNames:
    """How one schema names the elements of the specs it links with `@link` (or `@core`, in the older
    supergraphs): the single reader of those names for composition, the supergraph loader, the API
    schema and authorization."""

    __slots__ = ("by_spec", "links")

    def __init__(self, links: list[Link]) -> None:
        self.links = links
        self.by_spec: dict[str, Link] = {}
        for link in links:
            if link.identity.startswith(APOLLO_SPECS):
                self.by_spec.setdefault(link.spec_name, link)

    def version(self, spec: str) -> tuple[int, int] | None:
        """The linked version of an Apollo spec (`join`, `inaccessible`...), None when not linked."""
        link = self.by_spec.get(spec)
        return link.version if link is not None else None

    def directive(self, spec: str, name: str | None = None) -> str:
        """The schema's name for directive `@name` of `spec` (`name` None: the spec's own directive, e.g.
        `@inaccessible`); the default name when the spec is not linked."""
        name = name or spec
        link = self.by_spec.get(spec)
        if link is not None:
            return link.directive_name(name)
        return spec if name == spec else f"{spec}__{name}"

    def linked_directive(self, spec: str, name: str | None = None) -> str | None:
        """As `directive`, but None when the schema does not link `spec`."""
        return self.directive(spec, name) if spec in self.by_spec else None

    def owned_by(self, name: str, specs: frozenset[str]) -> bool:
        """True when the directive or type `name` belongs to one of `specs` (linked or by default name)."""
        for spec in specs:
            link = self.by_spec.get(spec)
            if link is not None:
                if link.owns(name):
                    return True
            elif name == spec or name.startswith(spec + "__"):
                return True
        return False


def read_links(directives: Iterable[DirectiveNode]) -> LinkedNames:
    """The `@link`/`@core` applications among a schema's directives, read leniently (a malformed link is
    skipped: composition reports those, see `resolve_links`)."""
    ignored: list[CompositionError] = []
    links: list[Link] = []
    for d in directives:
        if d.name.value in ("link", "core"):
            link = _parse_link("", d, ignored)
            if link is not None:
                links.append(link)
    return LinkedNames(links)


def schema_directives(doc: DocumentNode) -> list[ConstDirectiveNode]:
    """The directives applied to `schema` and `extend schema` in a document (where links live)."""
    out: list[ConstDirectiveNode] = []
    for d in doc.definitions:
        if isinstance(d, SchemaDefinitionNode | SchemaExtensionNode):
            out.extend(d.directives or ())
    return out


@dataclass(slots=True)
class LinkResolution:
    """Outcome of reading a subgraph's `@link`s."""

    fed2: bool = False
    version: tuple[int, int] = (1, 0)
    # directive name in schema -> canonical federation directive name
    directives: dict[str, str] = field(default_factory=dict)
    # type names that belong to the federation/link specs (dropped from the subgraph)
    spec_types: set[str] = field(default_factory=set)
    links: list[Link] = field(default_factory=list)
    errors: list[CompositionError] = field(default_factory=list)
    fed_prefix: str = "federation"
    upgraded: bool = False


def _str(value: ValueNode | None) -> str | None:
    return value.value if isinstance(value, StringValueNode) else None


def _parse_link(subgraph: str, directive: DirectiveNode, errors: list[CompositionError]) -> Link | None:
    args = {a.name.value: a.value for a in directive.arguments or ()}
    # `@core(feature:)` is the link spec's predecessor, still found in federation 1 supergraphs.
    url = _str(args.get("url") if directive.name.value == "link" else args.get("feature"))
    if url is None:
        errors.append(CompositionError(
            "INVALID_LINK_DIRECTIVE_USAGE",
            f'[{subgraph}] Invalid use of @link: argument "url" is required and must be a string',
            [subgraph]))
        return None
    m = _URL_RE.match(url)
    if not m:
        errors.append(CompositionError(
            "INVALID_LINK_IDENTIFIER", f'[{subgraph}] Invalid URL "{url}": missing or invalid version', [subgraph]))
        return None
    alias = _str(args.get("as"))
    imports: list[tuple[str, str]] = []
    raw_import = args.get("import")
    if raw_import is not None:
        items = raw_import.values if isinstance(raw_import, ListValueNode) else (raw_import,)
        for item in items:
            if isinstance(item, StringValueNode):
                imports.append((item.value, item.value))
            elif isinstance(item, ObjectValueNode):
                fields = {f.name.value: f.value for f in item.fields}
                unknown = [n for n in fields if n not in ("name", "as")]
                name = _str(fields.get("name"))
                as_ = _str(fields.get("as"))
                if unknown or name is None:

                    what = f'Unknown field "{unknown[0]}"' if unknown else 'Missing "name" field'
                    errors.append(CompositionError(
                        "INVALID_LINK_DIRECTIVE_USAGE",
                        f"[{subgraph}] {what} for sub-value {print_value(item)} of @link(import:) argument.",
                        [subgraph]))
                    continue
                as_ = as_ or name
                if name.startswith("@") != as_.startswith("@"):
                    errors.append(CompositionError(
                        "INVALID_LINK_DIRECTIVE_USAGE",
                        f'[{subgraph}] Invalid @link import renaming: directive "{name}" imported name should start '
                        'with a \'@\' character, but got "{as_}".', [subgraph]))
                    continue
                imports.append((name, as_))
            else:
                errors.append(CompositionError(
                    "INVALID_LINK_DIRECTIVE_USAGE",
                    f"[{subgraph}] Invalid sub-value for @link(import:) argument: values should be either strings "
                    "or input object values of the form { name: \"<importedElement>\", as: \"<alias>\" }.",
                    [subgraph]))
    return Link(url, m.group("identity"), (int(m.group("major")), int(m.group("minor"))), alias, imports)


def resolve_links(subgraph: str, schema_directives: list[ConstDirectiveNode]) -> LinkResolution:
    """Read the `@link`s on `schema`/`extend schema` and name every federation directive."""
    res = LinkResolution()
    link_name = "link"
    for d in schema_directives:
        if d.name.value == "link":
            link = _parse_link(subgraph, d, res.errors)
            if link is not None:
                res.links.append(link)
    for link in res.links:
        if link.identity == LINK_IDENTITY:
            link_name = link.name_in_schema
            if link.version != (1, 0):
                res.errors.append(CompositionError(
                    "UNKNOWN_LINK_VERSION",
                    f"[{subgraph}] Schema uses unknown version {link.version[0]}.{link.version[1]} of the link spec",
                    [subgraph]))
    res.spec_types.update({f"{link_name}__Import", f"{link_name}__Purpose", "_Any", "_Entity", "_Service"})
    fed = next((lk for lk in res.links if lk.identity == FEDERATION_IDENTITY), None)
    if fed is None:
        res.fed2 = False
        res.version = (1, 0)
        res.directives = {n: n for n in FED1_DIRECTIVES}
        res.spec_types.update({"_FieldSet", "federation__FieldSet"})
        return res
    res.fed2 = True
    res.version = fed.version
    major, minor = fed.version
    if major != 2 or minor > MAX_FED_MINOR:
        res.errors.append(CompositionError(
            "UNKNOWN_FEDERATION_LINK_VERSION",
            f"[{subgraph}] Invalid version v{major}.{minor} for the federation feature in @link directive on schema",
            [subgraph]))
        return res
    prefix = fed.name_in_schema
    res.fed_prefix = prefix
    imported = dict(fed.imports)
    for name in federation_directives(minor):
        res.directives[f"{prefix}__{name}"] = name
        if f"@{name}" in imported:
            res.directives[imported[f"@{name}"].lstrip("@")] = name
    for t in _FED_TYPES:
        res.spec_types.add(f"{prefix}__{t}")
        if t in imported:
            res.spec_types.add(imported[t])
    res.spec_types.add("_FieldSet")
    for orig, _ in fed.imports:
        base = orig.lstrip("@")
        if orig.startswith("@") and base not in federation_directives(minor):
            res.errors.append(CompositionError(
                "INVALID_LINK_DIRECTIVE_USAGE",
                f'[{subgraph}] Cannot import unknown element "{orig}".', [subgraph]))
    return res
