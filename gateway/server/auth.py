"""JWT authentication and the `@authenticated` / `@requiresScopes` authorization directives.

Tokens are verified against JWKS keys (file or URL; RS256, ES256, HS256 via `oct` keys), expiry
checked; the claims are kept for the request. The directives are read from the supergraph SDL;
a field the request may not see is removed from the operation before planning, and comes back
as `null` with an `UNAUTHORIZED_FIELD_OR_TYPE` error while the rest of the operation runs.

Per operation the protected fields are found once (kept in the server's prepared operation); per
request the work is one check per protected field, and the filtered operation (a document, planned
once) is cached per set of refused fields.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    parse,
    visit,
)
from graphql.language import ListValueNode, StringValueNode, Visitor

from gateway.cache.memory import LRU
from gateway.composition.links import read_links, schema_directives
from gateway.config import AuthConfig
from gateway.errors import GraphQLErrorDict, error_dict

log = logging.getLogger("fedgate.auth")

UNAUTHENTICATED = "UNAUTHENTICATED"
UNAUTHORIZED_FIELD_OR_TYPE = "UNAUTHORIZED_FIELD_OR_TYPE"


class AuthError(Exception):
    """A token that was sent but cannot be trusted (HTTP 401)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.error = error_dict(message, UNAUTHENTICATED)


# --- JWT -------------------------------------------------------------------------------------------


class JwtVerifier:
    """Verifies bearer tokens against JWKS keys; valid tokens' claims are cached until they expire."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self.header = config.header_name.lower()
        self.prefix = config.header_prefix.strip()
        self._keys: dict[str | None, list[jwt.PyJWK]] = {}
        self._cache: LRU[str, dict[str, Any]] = LRU(4096)
        self._next_poll = 0.0
        self._refreshing = False
        self._load_files()
        for source in config.jwks:
            if source.url:
                try:
                    self._add(httpx.get(source.url, timeout=5).json())
                except (httpx.HTTPError, ValueError) as exc:
                    log.warning("cannot fetch JWKS %s: %s", source.url, exc)
        self._next_poll = time.monotonic() + min((s.poll_interval for s in config.jwks if s.url), default=60.0)

    def _load_files(self) -> None:
        for source in self.config.jwks:
            if source.file:
                try:
                    self._add(json.loads(Path(source.file).read_text()))
                except (OSError, ValueError) as exc:
                    raise ValueError(f"cannot read JWKS file {source.file}: {exc}") from exc

    def _add(self, document: Any) -> None:
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise ValueError("a JWKS document needs a `keys` list")
        for raw in keys:
            try:
                key = jwt.PyJWK(raw)
            except (jwt.PyJWKError, jwt.InvalidKeyError) as exc:
                log.warning("skipping a JWKS key: %s", exc)
                continue
            self._keys.setdefault(raw.get("kid"), []).append(key)

    async def _refresh(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                for source in self.config.jwks:
                    if source.url:
                        document = (await client.get(source.url)).json()
                        self._keys = {}
                        self._load_files()
                        self._add(document)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("cannot refresh JWKS: %s", exc)
        finally:
            self._refreshing = False

    def _maybe_refresh(self) -> None:
        now = time.monotonic()
        if now < self._next_poll or self._refreshing or not any(s.url for s in self.config.jwks):
            return
        self._next_poll = now + min(s.poll_interval for s in self.config.jwks if s.url)
        self._refreshing = True
        asyncio.get_running_loop().create_task(self._refresh())

    def claims(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """The verified claims of the request's token; None without a token; AuthError for a bad one."""
        raw = headers.get(self.header)
        if raw is None:
            return None
        token = raw.strip()
        if self.prefix:
            scheme, _, rest = token.partition(" ")
            if scheme.lower() != self.prefix.lower() or not rest.strip():
                raise AuthError(f"The `{self.header}` header must be `{self.prefix} <token>`.")
            token = rest.strip()
        cached = self._cache.get(token)
        now = time.time()
        if cached is not None:
            exp = cached.get("exp")
            if not isinstance(exp, (int, float)) or exp + self.config.leeway > now:
                return cached
        self._maybe_refresh()
        claims = self._verify(token)
        self._cache.put(token, claims)
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("Invalid token: it cannot be decoded.") from exc
        alg = header.get("alg")
        if alg not in self.config.algorithms:
            raise AuthError(f"Invalid token: algorithm {alg!r} is not accepted.")
        candidates = self._keys.get(header.get("kid")) if header.get("kid") else None
        if candidates is None:
            candidates = [k for keys in self._keys.values() for k in keys]
        options = {"require": ["exp"], "verify_aud": self.config.audience is not None}
        last: Exception | None = None
        for key in candidates:
            if key.algorithm_name != alg and getattr(key, "_algorithm", None) is not None and key.algorithm_name:
                continue
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key.key,
                    algorithms=[alg],
                    audience=self.config.audience,
                    issuer=self.config.issuer,
                    leeway=self.config.leeway,
                    options=options,  # type: ignore[arg-type]
                )
                return claims
            except jwt.ExpiredSignatureError as exc:
                raise AuthError("Invalid token: it has expired.") from exc
            except jwt.PyJWTError as exc:
                last = exc
        if last is None:
            raise AuthError("Invalid token: no key matches it.")
        raise AuthError(f"Invalid token: {last}.")


def scopes_of(claims: Mapping[str, Any] | None) -> frozenset[str]:
    """The token's scopes: `scope` as a space-separated string (OAuth) or a list (`scope`/`scp`)."""
    if not claims:
        return frozenset()
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list):
        return frozenset(s for s in raw if isinstance(s, str))
    return frozenset()


# --- directives ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a field or type demands: a token at all, and (OR of AND-sets of) scopes."""

    authenticated: bool = False
    scopes: tuple[frozenset[str], ...] | None = None

    def allows(self, authenticated: bool, scopes: frozenset[str]) -> bool:
        if (self.authenticated or self.scopes is not None) and not authenticated:
            return False
        return self.scopes is None or any(need <= scopes for need in self.scopes)

    def merge(self, other: Requirement) -> Requirement:
        scopes = self.scopes
        if other.scopes is not None:
            # Both must hold: every pair of alternatives combined.
            scopes = other.scopes if scopes is None else tuple(a | b for a in scopes for b in other.scopes)
        return Requirement(self.authenticated or other.authenticated, scopes)


def _requirement(directives: Any, auth_name: str | None, scopes_name: str | None) -> Requirement | None:
    req: Requirement | None = None
    for d in directives or ():
        name = d.name.value
        if name == auth_name:
            req = (req or Requirement()).merge(Requirement(authenticated=True))
        elif name == scopes_name:
            for arg in d.arguments or ():
                if arg.name.value == "scopes" and isinstance(arg.value, ListValueNode):
                    alternatives = tuple(
                        frozenset(v.value for v in alt.values if isinstance(v, StringValueNode))
                        for alt in arg.value.values
                        if isinstance(alt, ListValueNode)
                    )
                    req = (req or Requirement()).merge(Requirement(scopes=alternatives))
    return req


def read_requirements(sdl: str) -> tuple[dict[str, Requirement], dict[tuple[str, str], Requirement]]:
    """(type name -> requirement, (type, field) -> requirement) from the supergraph SDL."""
    doc = parse(sdl, no_location=True)
    names = read_links(schema_directives(doc))
    auth_name = names.linked_directive("authenticated")
    scopes_name = names.linked_directive("requiresScopes")
    types: dict[str, Requirement] = {}
    fields: dict[tuple[str, str], Requirement] = {}
    if auth_name is None and scopes_name is None:
        return types, fields
    for definition in doc.definitions:
        name_node = getattr(definition, "name", None)
        if name_node is None or isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode)):
            continue
        type_name = name_node.value
        req = _requirement(getattr(definition, "directives", None), auth_name, scopes_name)
        if req is not None:
            types[type_name] = types[type_name].merge(req) if type_name in types else req
        for f in getattr(definition, "fields", None) or ():
            freq = _requirement(f.directives, auth_name, scopes_name)
            if freq is not None:
                key = (type_name, f.name.value)
                fields[key] = fields[key].merge(freq) if key in fields else freq
    return types, fields


@dataclass(frozen=True, slots=True)
class _Protected:
    node: FieldNode
    requirement: Requirement
    error_path: tuple[str, ...]  # response keys, "@" for list items (as Apollo Router reports it)
    # The position that becomes null: the field, or its nearest nullable ancestor (None: all of `data`).
    null_path: tuple[str, ...] | None


@dataclass(slots=True)
class Denied:
    """What the response needs after a filtered operation ran: nulls to set and errors to add."""

    null_paths: list[tuple[str, ...] | None]
    errors: list[GraphQLErrorDict]


@dataclass(slots=True)
class OperationAuth:
    protected: list[_Protected]
    document: DocumentNode
    operation: OperationDefinitionNode
    # Null targets of every composite field (a field whose selection the filter empties is dropped).
    targets: dict[int, list[tuple[str, ...] | None]]
    filtered: dict[frozenset[int], tuple[DocumentNode | None, Denied]] = field(default_factory=dict)


class Authorization:
    """Enforces the directives for operations on one supergraph.

    Per operation `analyse` finds the protected fields once (kept in the prepared operation); per
    request `filter` checks them against the caller's claims."""

    def __init__(self, sdl: str, schema: GraphQLSchema) -> None:
        self.types, self.fields = read_requirements(sdl)
        self.schema = schema
        self.active = bool(self.types or self.fields)

    def analyse(self, document: DocumentNode, operation: OperationDefinitionNode) -> OperationAuth | None:
        """The protected fields of a validated operation; None when it has none."""
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return None
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        protected: list[_Protected] = []
        targets: dict[int, list[tuple[str, ...] | None]] = {}
        self._walk(root, operation.selection_set, fragments, (), None, protected, targets)
        if not protected:
            return None
        return OperationAuth(protected, document, operation, targets)

    def filter(
        self, op: OperationAuth, claims: dict[str, Any] | None
    ) -> tuple[frozenset[int], DocumentNode | None, Denied] | None:
        """None when the caller may see the whole operation; else (the refused fields, the operation to run
        instead or None when nothing is left to run, the nulls/errors to apply). Cached per refused set."""
        scopes = scopes_of(claims)
        authenticated = claims is not None
        refused = frozenset(i for i, p in enumerate(op.protected) if not p.requirement.allows(authenticated, scopes))
        if not refused:
            return None
        cached = op.filtered.get(refused)
        if cached is None:
            cached = self._filtered(op, refused)
            op.filtered[refused] = cached
        return refused, cached[0], cached[1]

    def _walk(
        self,
        parent: Any,
        selection_set: SelectionSetNode,
        fragments: dict[str, FragmentDefinitionNode],
        path: tuple[str, ...],
        parent_target: tuple[str, ...] | None,
        out: list[_Protected],
        targets: dict[int, list[tuple[str, ...] | None]],
    ) -> None:
        """Find protected fields. Paths are response keys with "@" per list level; `parent_target` is
        the position that becomes null when a non-null field below it is removed (None: `data`)."""
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                name = sel.name.value
                if name.startswith("__"):
                    continue
                fields = getattr(parent, "fields", None) or {}
                definition = fields.get(name)
                if definition is None:
                    continue
                named = get_named_type(definition.type)
                req = self.fields.get((parent.name, name))
                treq = self.types.get(named.name)
                if treq is not None:
                    req = treq if req is None else req.merge(treq)
                # Reached through a fragment on a protected type (behind an interface or union).
                preq = self.types.get(parent.name)
                if preq is not None:
                    req = preq if req is None else req.merge(preq)
                if isinstance(parent, GraphQLInterfaceType) and req is None:
                    # An interface field is protected when an implementation's field is.
                    for impl in self.schema.get_possible_types(parent):
                        ireq = self.fields.get((impl.name, name))
                        if ireq is not None:
                            req = ireq if req is None else req.merge(ireq)
                own = (*path, sel.alias.value if sel.alias else name)
                t: Any = definition.type
                target = parent_target if isinstance(t, GraphQLNonNull) else own
                if req is not None:
                    out.append(_Protected(sel, req, own, target))
                    continue
                if sel.selection_set is None:
                    continue
                targets.setdefault(id(sel), []).append(target)
                # Below a list, a nullable item is where a non-null child's null stops.
                child_path, child_target = own, target
                if isinstance(t, GraphQLNonNull):
                    t = t.of_type
                while isinstance(t, GraphQLList):
                    child_path = (*child_path, "@")
                    t = t.of_type
                    if isinstance(t, GraphQLNonNull):
                        t = t.of_type
                    else:
                        child_target = child_path
                self._walk(named, sel.selection_set, fragments, child_path, child_target, out, targets)
            elif isinstance(sel, InlineFragmentNode):
                target_type = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                self._walk(target_type or parent, sel.selection_set, fragments, path, parent_target, out, targets)
            elif isinstance(sel, FragmentSpreadNode):
                frag = fragments.get(sel.name.value)
                if frag is not None:
                    target_type = self.schema.get_type(frag.type_condition.name.value)
                    self._walk(target_type or parent, frag.selection_set, fragments, path, parent_target, out, targets)

    def _filtered(self, op: OperationAuth, refused: frozenset[int]) -> tuple[DocumentNode | None, Denied]:
        removed = {id(op.protected[i].node) for i in refused}
        denied = Denied(
            null_paths=[op.protected[i].null_path for i in sorted(refused)],
            errors=[
                error_dict(
                    "Unauthorized field or type", UNAUTHORIZED_FIELD_OR_TYPE, path=list(op.protected[i].error_path)
                )
                for i in sorted(refused)
            ],
        )
        document = op.document
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        new_fragments: dict[str, FragmentDefinitionNode | None] = {}

        def fragment(name: str, visiting: frozenset[str]) -> FragmentDefinitionNode | None:
            if name in new_fragments:
                return new_fragments[name]
            frag = fragments.get(name)
            if frag is None or name in visiting:
                return None
            sub = strip(frag.selection_set, visiting | {name})
            result = None if sub is None else FragmentDefinitionNode(
                name=frag.name, type_condition=frag.type_condition, directives=frag.directives,
                selection_set=sub, variable_definitions=frag.variable_definitions,
            )
            new_fragments[name] = result
            return result

        def strip(selection_set: SelectionSetNode, visiting: frozenset[str]) -> SelectionSetNode | None:
            kept: list[Any] = []
            for sel in selection_set.selections:
                if isinstance(sel, FieldNode):
                    if id(sel) in removed:
                        continue
                    if sel.selection_set is not None:
                        sub = strip(sel.selection_set, visiting)
                        if sub is None:
                            # Nothing left under it: the field goes too, and is null in the response.
                            denied.null_paths.extend(op.targets.get(id(sel), ()))
                            continue
                        if sub is not sel.selection_set:
                            sel = FieldNode(
                                alias=sel.alias, name=sel.name, arguments=sel.arguments,
                                directives=sel.directives, selection_set=sub,
                            )
                    kept.append(sel)
                elif isinstance(sel, InlineFragmentNode):
                    sub = strip(sel.selection_set, visiting)
                    if sub is not None:
                        kept.append(
                            sel if sub is sel.selection_set else InlineFragmentNode(
                                type_condition=sel.type_condition, directives=sel.directives, selection_set=sub
                            )
                        )
                elif isinstance(sel, FragmentSpreadNode):
                    if fragment(sel.name.value, visiting) is not None:
                        kept.append(sel)
            if not kept:
                return None
            if len(kept) == len(selection_set.selections) and all(
                a is b for a, b in zip(kept, selection_set.selections, strict=True)
            ):
                return selection_set
            return SelectionSetNode(selections=tuple(kept))

        operation = op.operation
        root = strip(operation.selection_set, frozenset())
        if root is None:
            return None, denied
        used_fragments = _used_fragments(root, {n: f for n, f in new_fragments.items() if f is not None})
        new_op = OperationDefinitionNode(
            operation=operation.operation, name=operation.name, directives=operation.directives,
            variable_definitions=tuple(
                _used_variables(root, operation, used_fragments, operation.variable_definitions or ())
            ),
            selection_set=root,
        )
        return DocumentNode(definitions=(new_op, *used_fragments.values())), denied


def _used_fragments(root: SelectionSetNode, available: dict[str, FragmentDefinitionNode]) -> dict[str, FragmentDefinitionNode]:
    used: dict[str, FragmentDefinitionNode] = {}
    stack = [root]
    while stack:
        for sel in stack.pop().selections:
            if isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if name not in used and name in available:
                    used[name] = available[name]
                    stack.append(available[name].selection_set)
            elif isinstance(sel, (FieldNode, InlineFragmentNode)) and sel.selection_set is not None:
                stack.append(sel.selection_set)
    return used


def _used_variables(
    root: SelectionSetNode,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    definitions: Any,
) -> list[VariableDefinitionNode]:
    names: set[str] = set()

    class _Collect(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            names.add(node.name.value)

    visit(root, _Collect())
    for d in operation.directives or ():
        visit(d, _Collect())
    for frag in fragments.values():
        visit(frag, _Collect())
    return [d for d in definitions if d.variable.name.value in names]


def apply_denied(body: dict[str, Any], denied: Denied) -> None:
    """Set the refused fields (or their nearest nullable ancestors) to null and add the errors."""
    data = body.get("data")
    for path in denied.null_paths:
        if path is None:
            body["data"] = data = None
            break
        if type(data) is dict:
            _set_null(data, path)
    errors = body.get("errors")
    body["errors"] = [*denied.errors, *(errors or [])]


def _set_null(value: Any, path: tuple[str, ...]) -> None:
    key = path[0]
    if key == "@":
        if type(value) is list:
            if len(path) == 1:
                value[:] = [None] * len(value)
            else:
                for item in value:
                    _set_null(item, path[1:])
        return
    if type(value) is not dict:
        return
    if len(path) == 1 or key not in value:
        value[key] = None  # absent: the filter dropped it (nothing under it was left)
        return
    _set_null(value[key], path[1:])


__all__ = [
    "AuthError",
    "Authorization",
    "Denied",
    "JwtVerifier",
    "Requirement",
    "UNAUTHORIZED_FIELD_OR_TYPE",
    "apply_denied",
    "read_requirements",
    "scopes_of",
]

