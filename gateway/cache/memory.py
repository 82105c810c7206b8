"""The in-memory backend (default): a bounded LRU whose entries expire."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, TypeVar


class MemoryCache:
    """At most `max_entries` entries, least recently used evicted first; expired entries read as misses."""

    __slots__ = ("_data", "_tags", "max_entries", "_clock")

    def __init__(self, max_entries: int = 100_000, clock: object = time.monotonic) -> None:
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._tags: OrderedDict[str, tuple[float, set[str]]] = OrderedDict()
        self.max_entries = max_entries
        self._clock = clock

    def _now(self) -> float:
        return self._clock()  # type: ignore[operator,no-any-return]

    def _get(self, key: str, now: float) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[0] <= now:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry[1]

    async def get(self, key: str) -> bytes | None:
        """The value at `key`, or None when absent or expired."""
        return self._get(key, self._now())

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values at `keys`, in order."""
        now = self._now()
        return [self._get(key, now) for key in keys]

    async def set_many(
        self, items: Sequence[tuple[str, bytes, float]], tags: Sequence[tuple[str, str, float]] = ()
    ) -> None:
        """Store each (key, value, ttl seconds), evicting the least recently used when full; tag keys."""
        now = self._now()
        data = self._data
        for key, value, ttl in items:
            if ttl <= 0:
                continue
            data[key] = (now + ttl, value)
            data.move_to_end(key)
        while len(data) > self.max_entries:
            data.popitem(last=False)
        if tags:
            self._tag(tags, now)

    def _tag(self, tags: Sequence[tuple[str, str, float]], now: float) -> None:
        sets = self._tags
        for tag, key, ttl in tags:
            entry = sets.get(tag)
            if entry is None or entry[0] <= now:
                entry = (now + ttl, set())
            members = entry[1]
            members.add(key)
            sets[tag] = (max(entry[0], now + ttl), members)
            sets.move_to_end(tag)
        while len(sets) > self.max_entries:
            sets.popitem(last=False)

    async def pop_tag(self, tag: str) -> list[str]:
        """The keys tagged with `tag` (the tag is forgotten)."""
        entry = self._tags.pop(tag, None)
        if entry is None or entry[0] <= self._now():
            return []
        return sorted(entry[1])

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove `keys`."""
        for key in keys:
            self._data.pop(key, None)

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with `prefix` (a scan: invalidation is rare)."""
        doomed = [key for key in self._data if key.startswith(prefix)]
        for key in doomed:
            del self._data[key]
        return len(doomed)

    async def scan_prefix(self, prefix: str, limit: int) -> list[tuple[str, bytes]]:
        """Up to `limit` live (key, value) pairs under `prefix`, most recently used first."""
        now = self._now()
        out: list[tuple[str, bytes]] = []
        for key in reversed(self._data):
            if len(out) >= limit:
                break
            expires, value = self._data[key]
            if key.startswith(prefix) and expires > now:
                out.append((key, value))
        return out

    async def aclose(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        return len(self._data)


K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A bounded mapping without expiry, least recently used evicted first (plans, APQ front, and
    the server's per-operation caches)."""

    __slots__ = ("_data", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self._data: OrderedDict[K, V] = OrderedDict()
        self.maxsize = maxsize

    def get(self, key: K) -> V | None:
        """The value, marked as recently used; None when absent."""
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def peek(self, key: K) -> V | None:
        """The value without marking it used (safe to call from another thread)."""
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        """Store `value`, evicting the least recently used entry when full."""
        data = self._data
        data[key] = value
        data.move_to_end(key)
        if len(data) > self.maxsize:
            data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
