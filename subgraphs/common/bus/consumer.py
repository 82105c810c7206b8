"""A service's consumer group on the streams it reacts to.

Entries are handled a read batch at a time: parse each, look up the handler for its type, and
run every handler of the batch in ONE SQLite transaction, each inside its own savepoint that
also records the event id (`Tx.already_applied`); a handler that raises rolls back only its
savepoint. The entries are acknowledged (XACK) only after that transaction committed. A handler that raises leaves the entry pending; after
`claim_idle_ms` any live consumer of the group claims it (XAUTOCLAIM, which also rescues the
entries of a consumer that died) and tries again. An entry delivered more than
`max_deliveries` times is copied to the group's dead-letter stream and acknowledged, so one
poison event cannot stop the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from subgraphs.common.bus.events import Event, EventFormatError, dead_letter_stream
from subgraphs.common.bus.metrics import BusMetrics
from subgraphs.common.bus.outbox import Handler, Outbox, Tx
from subgraphs.common.bus.settings import BusSettings

_log = logging.getLogger("subgraphs.bus.consumer")

_MAX_BACKOFF_SECONDS = 2.0


class Consumer:
    """Reads `handlers`' streams as the consumer group named after the service."""

    def __init__(
        self,
        outbox: Outbox,
        redis: Redis,
        settings: BusSettings,
        metrics: BusMetrics,
        handlers: Mapping[str, Mapping[str, Handler]],
    ) -> None:
        self._outbox = outbox
        self._redis = redis
        self._settings = settings
        self._metrics = metrics
        self._handlers = {stream: dict(by_type) for stream, by_type in handlers.items()}
        self.group = outbox.service
        self.dead_letter = dead_letter_stream(settings.prefix, self.group)
        self._last_error: dict[tuple[str, str], str] = {}
        self._next_claim = 0.0

    @property
    def streams(self) -> list[str]:
        """The streams this group reads."""
        return list(self._handlers)

    async def ensure_groups(self) -> None:
        """Create the group on every stream (from its first entry, so nothing published earlier is missed)."""
        for stream in self._handlers:
            try:
                await self._redis.xgroup_create(stream, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def run(self) -> None:
        """Consume forever; Redis outages only pause it."""
        service = self._outbox.service
        backoff = 0.05
        ready = False
        while True:
            try:
                if not ready:
                    await self.ensure_groups()
                    ready = True
                await self.poll()
                backoff = 0.05
                self._metrics.redis_up.labels(service).set(1)
            except ResponseError as exc:
                # NOGROUP: Redis came back without our group (no persistence); create it again.
                ready = False
                _log.warning("%s: %s", service, exc)
                await asyncio.sleep(backoff)
            except (RedisError, OSError) as exc:
                self._metrics.redis_up.labels(service).set(0)
                _log.warning("%s: cannot read events (%s); retrying in %.2fs", service, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(_MAX_BACKOFF_SECONDS, backoff * 2)

    async def poll(self) -> int:
        """One round: claim stale pending entries when due, then read new ones; returns entries handled."""
        handled = 0
        if time.monotonic() >= self._next_claim:
            self._next_claim = time.monotonic() + self._settings.claim_idle_ms / 2000
            for stream in self._handlers:
                handled += await self._claim(stream)
        replies: Any = await self._redis.xreadgroup(
            self.group,
            self._settings.consumer,
            {stream: ">" for stream in self._handlers},
            count=self._settings.batch,
            block=self._settings.block_ms,
        )
        batch = [
            (_text(raw_stream), _text(entry_id), fields)
            for raw_stream, entries in replies or []
            for entry_id, fields in entries
        ]
        if batch:
            await self._handle_batch(batch)
        return handled + len(batch)

    async def _claim(self, stream: str) -> int:
        reply: Any = await self._redis.xautoclaim(
            stream,
            self.group,
            self._settings.consumer,
            min_idle_time=self._settings.claim_idle_ms,
            start_id="0-0",
            count=self._settings.batch,
        )
        entries = [(_text(entry_id), fields) for entry_id, fields in reply[1] if fields is not None]
        if not entries:
            return 0
        self._metrics.reclaimed.labels(self._outbox.service, stream).inc(len(entries))
        # XAUTOCLAIM counted this delivery; read the counts to spot entries that failed too often.
        pending: Any = await self._redis.xpending_range(
            stream,
            self.group,
            min=entries[0][0],
            max=entries[-1][0],
            count=len(entries) + 16,
            consumername=self._settings.consumer,
        )
        deliveries = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        retry = []
        for entry_id, fields in entries:
            count = deliveries.get(entry_id, 1)
            if count > self._settings.max_deliveries:
                await self._dead_letter(stream, entry_id, fields, count - 1)
            else:
                retry.append((stream, entry_id, fields))
        if retry:
            await self._handle_batch(retry)
        return len(entries)

    async def _handle_batch(self, batch: list[tuple[str, str, Mapping[Any, Any]]]) -> None:
        started = time.perf_counter()
        service = self._outbox.service
        done: list[tuple[str, str, str, str]] = []  # stream, entry id, type, outcome
        failed: list[tuple[str, str, str, str]] = []  # stream, entry id, type, error
        work: list[tuple[str, str, Event, Handler]] = []
        for stream, entry_id, fields in batch:
            try:
                event = Event.from_json(_field(fields, "event"))
            except EventFormatError as exc:
                failed.append((stream, entry_id, "?", f"{type(exc).__name__}: {exc}"))
                continue
            handler = self._handlers[stream].get(event.type)
            if handler is None:
                done.append((stream, entry_id, event.type, "ignored"))
            else:
                work.append((stream, entry_id, event, handler))

        def apply_all(tx: Tx) -> list[str | Exception]:
            outcomes: list[str | Exception] = []
            for _stream, _entry_id, event, handler in work:
                mark = tx.savepoint()
                try:
                    outcomes.append(_apply(tx, event, handler))
                    tx.release()
                except Exception as exc:  # noqa: BLE001 - this entry only; the others commit
                    tx.rollback_to(mark)
                    outcomes.append(exc)
            return outcomes

        if work:
            try:
                outcomes = await self._outbox.write(apply_all)
            except (RedisError, OSError, asyncio.CancelledError):
                raise
            except Exception as exc:  # noqa: BLE001 - the transaction failed: every entry stays pending
                outcomes = [exc] * len(work)
            for (stream, entry_id, event, _handler), outcome in zip(work, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    failed.append((stream, entry_id, event.type, f"{type(outcome).__name__}: {outcome}"))
                else:
                    done.append((stream, entry_id, event.type, outcome))

        for stream, entry_id, type_, error in failed:
            self._last_error[(stream, entry_id)] = error
            self._metrics.consumed.labels(service, stream, type_, "failed").inc()
            _log.warning("%s: %s %s failed, left pending for a retry: %s", service, stream, entry_id, error)
        if not done:
            return
        by_stream: dict[str, list[str]] = {}
        for stream, entry_id, _type, _outcome in done:
            by_stream.setdefault(stream, []).append(entry_id)
        # Acknowledged only now that the transaction has committed.
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream, ids in by_stream.items():
                pipe.xack(stream, self.group, *ids)
            await pipe.execute()
        elapsed = time.perf_counter() - started
        for stream, entry_id, type_, outcome in done:
            self._last_error.pop((stream, entry_id), None)
            self._metrics.consumed.labels(service, stream, type_, outcome).inc()
            self._metrics.handle_seconds.labels(service).observe(elapsed)

    async def _dead_letter(self, stream: str, entry_id: str, fields: Mapping[Any, Any], deliveries: int) -> None:
        error = self._last_error.pop((stream, entry_id), "failed in another consumer")
        await self._redis.xadd(
            self.dead_letter,
            {
                "event": _field(fields, "event") or b"",
                "stream": stream,
                "entry": entry_id,
                "group": self.group,
                "deliveries": str(deliveries),
                "error": error,
            },
        )
        await self._redis.xack(stream, self.group, entry_id)
        self._metrics.dead_lettered.labels(self._outbox.service, stream).inc()
        _log.error(
            "%s: %s %s failed %d times; moved to %s: %s",
            self._outbox.service, stream, entry_id, deliveries, self.dead_letter, error,
        )

    async def observe(self) -> None:
        """Refresh the gauges that describe Redis (pending, lag, dead letters) for a /metrics scrape."""
        service = self._outbox.service
        groups_by_stream: dict[str, dict[str, Any]] = {}
        for stream in self._handlers:
            groups: Any = await self._redis.xinfo_groups(stream)
            for group in groups:
                if _text(group["name"]) == self.group:
                    groups_by_stream[stream] = group
        for stream, group in groups_by_stream.items():
            self._metrics.group_pending.labels(service, stream).set(int(group.get("pending") or 0))
            lag = group.get("lag")
            if lag is not None:
                self._metrics.group_lag.labels(service, stream).set(int(lag))
        self._metrics.dead_letter_length.labels(service).set(await self._redis.xlen(self.dead_letter))


def _apply(tx: Tx, event: Event, handler: Handler) -> str:
    if tx.already_applied(event):
        return "duplicate"
    handler(tx, event)
    return "applied"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _field(fields: Mapping[Any, Any], name: str) -> Any:
    value = fields.get(name.encode())
    return fields.get(name) if value is None else value
