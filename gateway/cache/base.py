"""The one small interface every cache backend implements, and the errors it may raise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class CacheError(Exception):
    """A backend operation failed or timed out; callers go on without the cache."""

    code = "CACHE_UNAVAILABLE"


class Cache(Protocol):
    """An async key -> bytes store with per-entry TTL (seconds).

    Reads on an unavailable backend return misses; writes and deletes are best effort. No method
    raises: a cache must never cost a request.
    """

    async def get(self, key: str) -> bytes | None:
        """The value at `key`, or None."""
        ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values at `keys`, in order (None for a miss); one round trip."""
        ...

    async def set_many(
        self, items: Sequence[tuple[str, bytes, float]], tags: Sequence[tuple[str, str, float]] = ()
    ) -> None:
        """Store each (key, value, ttl seconds); add each (tag, key, ttl) to the tag's set, which lives at
        least `ttl` seconds."""
        ...

    async def pop_tag(self, tag: str) -> list[str]:
        """The keys added to `tag`'s set, removing the set."""
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove `keys`."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every key that starts with `prefix`; how many were removed (best effort)."""
        ...

    async def scan_prefix(self, prefix: str, limit: int) -> list[tuple[str, bytes]]:
        """Up to `limit` (key, value) pairs whose key starts with `prefix`."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
