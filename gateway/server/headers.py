"""Header rules: which client headers reach which subgraphs (allow-list, rename, insert).

Nothing is propagated unless a rule says so, except the request id and the W3C trace context.
Rules are compiled once per subgraph; per fetch the work is a few dict lookups.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.config import HeaderRule, HeadersConfig

# Never copied from a client: they describe the client's own connection or body.
_HOP_BY_HOP = frozenset(
    {
        "host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection",
        "keep-alive", "te", "trailer", "upgrade", "accept", "accept-encoding", "proxy-authorization",
        "proxy-authenticate",
    }
)


class HeaderRuleError(ValueError):
    """A header rule that cannot work (caught at startup)."""


@dataclass(frozen=True, slots=True)
class _Compiled:
    named: tuple[tuple[str, str, str | None], ...]  # (client name, outbound name, default)
    patterns: tuple[re.Pattern[str], ...]
    inserts: tuple[tuple[str, str], ...]
    claims: tuple[tuple[str, str], ...]  # (outbound name, claim)

    @property
    def empty(self) -> bool:
        return not (self.named or self.patterns or self.inserts or self.claims)


def _compile(rules: list[HeaderRule]) -> _Compiled:
    named: list[tuple[str, str, str | None]] = []
    patterns: list[re.Pattern[str]] = []
    inserts: list[tuple[str, str]] = []
    claims: list[tuple[str, str]] = []
    for rule in rules:
        chosen = [k for k in ("propagate", "matching", "insert") if getattr(rule, k) is not None]
        if len(chosen) != 1:
            raise HeaderRuleError("a header rule needs exactly one of `propagate`, `matching`, `insert`")
        if rule.propagate is not None:
            name = rule.propagate.lower()
            named.append((name, (rule.rename or name).lower(), rule.default))
        elif rule.matching is not None:
            try:
                patterns.append(re.compile(rule.matching, re.IGNORECASE))
            except re.error as exc:
                raise HeaderRuleError(f"header rule `matching: {rule.matching}` is not a regex: {exc}") from exc
        elif rule.insert is not None:
            if rule.from_claim is not None:
                claims.append((rule.insert.lower(), rule.from_claim))
            elif rule.value is not None:
                inserts.append((rule.insert.lower(), rule.value))
            else:
                raise HeaderRuleError(f"header rule `insert: {rule.insert}` needs `value` or `from_claim`")
    return _Compiled(tuple(named), tuple(patterns), tuple(inserts), tuple(claims))


class HeaderRules:
    """Compiled `headers` config: `for_subgraph(name, client_headers, claims)` gives what to add."""

    def __init__(self, config: HeadersConfig) -> None:
        self._all = _compile(config.all)
        self._per = {name: _compile([*config.all, *rules]) for name, rules in config.subgraphs.items()}
        self.empty = self._all.empty and all(c.empty for c in self._per.values())

    def for_subgraph(
        self, name: str, client: Mapping[str, str], claims: dict[str, Any] | None
    ) -> dict[str, str]:
        """Headers the rules add for one subgraph request."""
        rules = self._per.get(name, self._all)
        out: dict[str, str] = {}
        for src, dst, default in rules.named:
            value = client.get(src)
            if value is None:
                value = default
            if value is not None and src not in _HOP_BY_HOP:
                out[dst] = value
        if rules.patterns:
            for key, value in client.items():
                if key not in _HOP_BY_HOP and any(p.fullmatch(key) for p in rules.patterns):
                    out[key] = value
        for dst, value in rules.inserts:
            out[dst] = value
        if rules.claims and claims:
            for dst, claim in rules.claims:
                got = claims.get(claim)
                if got is not None:
                    out[dst] = got if isinstance(got, str) else str(got)
        return out
