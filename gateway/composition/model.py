"""The merged (supergraph) model the merger writes and the printer reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import TypeNode, ValueNode


@dataclass(slots=True)
class MDirective:
    """An applied directive in the supergraph; args already printed (`name: value`)."""

    name: str
    args: list[tuple[str, str]] = field(default_factory=list)

    def print(self) -> str:
        if not self.args:
            return f"@{self.name}"
        return f"@{self.name}(" + ", ".join(f"{k}: {v}" for k, v in self.args) + ")"


@dataclass(slots=True)
class MArgument:
    name: str
    type: TypeNode | None = None
    default: ValueNode | None = None
    description: str | None = None
    inaccessible: bool = False
    directives: list[MDirective] = field(default_factory=list)


@dataclass(slots=True)
class MField:
    name: str
    parent: str
    type: TypeNode | None = None
    args: dict[str, MArgument] = field(default_factory=dict)
    description: str | None = None
    inaccessible: bool = False
    join: list[MDirective] = field(default_factory=list)
    directives: list[MDirective] = field(default_factory=list)
    default: ValueNode | None = None

    @property
    def coordinate(self) -> str:
        return f"{self.parent}.{self.name}"


@dataclass(slots=True)
class MEnumValue:
    name: str
    description: str | None = None
    inaccessible: bool = False
    join: list[MDirective] = field(default_factory=list)
    directives: list[MDirective] = field(default_factory=list)


@dataclass(slots=True)
class MType:
    kind: str
    name: str
    description: str | None = None
    inaccessible: bool = False
    implements: list[str] = field(default_factory=list)
    join_implements: list[MDirective] = field(default_factory=list)
    join_types: list[MDirective] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    join_members: list[MDirective] = field(default_factory=list)
    fields: dict[str, MField] = field(default_factory=dict)
    values: dict[str, MEnumValue] = field(default_factory=dict)
    directives: list[MDirective] = field(default_factory=list)


@dataclass(slots=True)
class MDirectiveDef:
    name: str
    args: dict[str, MArgument] = field(default_factory=dict)
    locations: list[str] = field(default_factory=list)
    repeatable: bool = False
    description: str | None = None


@dataclass
class Supergraph:
    """Everything the printer needs."""

    graphs: list[tuple[str, str, str]] = field(default_factory=list)  # (enum value, name, url)
    join_version: tuple[int, int] = (0, 3)
    links: list[MDirective] = field(default_factory=list)  # extra @link on schema (tag, inaccessible, ...)
    roots: dict[str, str] = field(default_factory=dict)
    types: dict[str, MType] = field(default_factory=dict)
    directive_defs: dict[str, MDirectiveDef] = field(default_factory=dict)
    schema_directives: list[MDirective] = field(default_factory=list)
    schema_description: str | None = None
    uses_context: bool = False
    directive_names: dict[str, str] = field(default_factory=dict)  # canonical -> name in the supergraph
    spec_directives: list[str] = field(default_factory=list)  # authenticated, requiresScopes, policy, cost, ...
