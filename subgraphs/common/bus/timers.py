"""Durable timers: saga steps that happen after a delay (auto-approve, pickup, the ride).

A timer is a `Tick`: a function that, in one transaction, applies every step that is due
according to the database (e.g. PAID orders older than the auto-approve delay) and returns
the seconds until the next one. The due time lives in the rows, not in memory, so a restart
neither loses nor repeats a step. Ticks run when a commit wakes them, when their reported
next due time comes, and at least every `timer_poll_ms`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from subgraphs.common.bus.outbox import Outbox, Tx

_log = logging.getLogger("subgraphs.bus.timers")

#: Applies due steps in `tx`; returns seconds until the next step, or None when none is scheduled.
Tick = Callable[[Tx], float | None]

# Between two rounds at least this long, however often commits wake the timers.
_MIN_GAP_SECONDS = 0.005


class Timers:
    """Runs a service's ticks."""

    def __init__(self, outbox: Outbox, ticks: Sequence[Tick], poll_seconds: float) -> None:
        self._outbox = outbox
        self._ticks = list(ticks)
        self._poll = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something changed: look for due work now."""
        self._wake.set()

    async def run(self) -> None:
        """Tick forever."""
        while True:
            self._wake.clear()
            wait = self._poll
            for tick in self._ticks:
                try:
                    due = await self._outbox.write(tick)
                except Exception:  # noqa: BLE001 - a failing tick is retried at the next round
                    _log.exception("%s: timer %s failed", self._outbox.service, getattr(tick, "__name__", tick))
                    continue
                if due is not None:
                    wait = min(wait, max(due, 0.0))
            await asyncio.sleep(_MIN_GAP_SECONDS)
            if wait > _MIN_GAP_SECONDS:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
                except TimeoutError:
                    pass
