"""The recomposition loop of `fedgate dev`: watch SDL files and the config, poll subgraph URLs,
recompose on a change, hand a good supergraph to the server, print what failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
import httpx

from gateway.composition.compose import compose
from gateway.composition.errors import CompositionResult
from gateway.dev.report import format_errors
from gateway.dev.sources import DevSources

log = logging.getLogger("fedgate.dev")

# (SDL, where it came from) -> True when it is served from now on (False: refused or unchanged).
Offer = Callable[[str, str], Awaitable[bool]]


class DevLoop:
    """Keeps the served supergraph in step with the subgraphs' SDL; the last good one stays served."""

    def __init__(self, sources: DevSources, *, poll_interval: float = 1.0, color: bool = False) -> None:
        self.sources = sources
        self.poll_interval = poll_interval
        self.color = color
        self.offer: Offer | None = None
        self.served_sdl: str | None = None
        self.served_at: str | None = None
        self.compositions = 0
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._rewatch: asyncio.Event | None = None
        self._client: httpx.AsyncClient | None = None
        self._reported: tuple[str, ...] = ()

    # --- output ---------------------------------------------------------------------------------

    def say(self, text: str, **style: Any) -> None:
        """One status line on stderr (the terminal a developer watches)."""
        click.echo(click.style(text, **style) if self.color and style else text, err=True)

    def _report_problems(self) -> None:
        problems = tuple(f"{who}: {why}" for who, why in self.sources.problems())
        if problems != self._reported:
            for line in problems:
                self.say(f"fedgate dev: warning: {line}", fg="yellow")
            self._reported = problems

    # --- composing ------------------------------------------------------------------------------

    def compose_once(self) -> CompositionResult:
        """Compose what the sources hold now (CPU work: call through a thread from the loop)."""
        return compose(self.sources.inputs())

    def initial(self) -> str | None:
        """Read every source and compose once, before serving; the SDL to serve first, or None."""
        self.sources.reload_config()
        self.sources.read_files(force=True)
        if any(s.source.subgraph_url for s in self.sources.subgraphs.values()):

            async def poll() -> None:
                async with httpx.AsyncClient(timeout=5) as client:
                    await self.sources.poll_urls(client)

            asyncio.run(poll())
        self._report_problems()
        result = self.compose_once()
        if self._print_result(result, "startup"):
            assert result.supergraph_sdl is not None
            self.served_sdl = result.supergraph_sdl
            self.served_at = time.strftime("%H:%M:%S")
            return result.supergraph_sdl
        return None

    def _print_result(self, result: CompositionResult, reason: str, elapsed: float | None = None) -> bool:
        self.compositions += 1
        names = ", ".join(i.name for i in self.sources.inputs()) or "no subgraph"
        if result.errors or result.supergraph_sdl is None:
            keeping = (
                f"still serving the last good supergraph (composed at {self.served_at})"
                if self.served_sdl is not None
                else "nothing to serve until it composes"
            )
            count = len(result.errors)
            self.say(f"fedgate dev: composition failed ({reason}) with {count} error(s); {keeping}", fg="red", bold=True)
            sdls = {i.name: i.sdl for i in self.sources.inputs() if isinstance(i.sdl, str)}
            files = {name: s.source.file for name, s in self.sources.subgraphs.items()}
            click.echo(format_errors(result.errors, sdls, files, self.color), err=True)
            return False
        took = f" in {elapsed * 1000:.0f} ms" if elapsed is not None else ""
        self.say(f"fedgate dev: composed {names}{took} ({reason})", fg="green")
        return True

    async def recompose(self, reason: str) -> bool:
        """Compose again and serve the result if it composes and differs; True when it was swapped in."""
        async with self._lock:
            self._report_problems()
            start = time.perf_counter()
            result = await asyncio.to_thread(self.compose_once)
            if result.supergraph_sdl is not None and result.supergraph_sdl == self.served_sdl and not result.errors:
                return False
            if not self._print_result(result, reason, time.perf_counter() - start):
                return False
            assert result.supergraph_sdl is not None and self.offer is not None
            if not await self.offer(result.supergraph_sdl, "fedgate dev"):
                self.say("fedgate dev: the composed supergraph did not load; still serving the last good one", fg="red")
                return False
            self.served_sdl = result.supergraph_sdl
            self.served_at = time.strftime("%H:%M:%S")
            return True

    # --- watching -------------------------------------------------------------------------------

    async def start(self, offer: Offer) -> None:
        """Start watching (from the server's startup); `offer` swaps a new supergraph in."""
        self.offer = offer
        self._client = httpx.AsyncClient(timeout=max(2.0, self.poll_interval * 2))
        self._tasks = [asyncio.create_task(self._watch()), asyncio.create_task(self._poll())]

    async def stop(self) -> None:
        """Stop watching (from the server's shutdown)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._client is not None:
            await self._client.aclose()

    async def check(self) -> bool:
        """Look at every source once; recompose if anything changed."""
        config_changed = self.sources.reload_config()
        if config_changed and self._rewatch is not None:
            self._rewatch.set()  # new files may live in new folders
        files_changed = self.sources.read_files(force=config_changed)
        urls_changed = False
        if self._client is not None and any(s.source.subgraph_url for s in self.sources.subgraphs.values()):
            urls_changed = await self.sources.poll_urls(self._client)
        if config_changed or files_changed or urls_changed:
            what = ([self.sources.config_path.name] if config_changed else []) + sorted(set(files_changed))
            if urls_changed:
                what.append("a subgraph's SDL")
            return await self.recompose(", ".join(what) + " changed")
        self._report_problems()
        return False

    async def _poll(self) -> None:
        """Every `poll_interval`: subgraph URLs, and file sizes and mtimes (when notifications miss)."""
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.check()
            except Exception:  # noqa: BLE001 - the loop must outlive one bad check
                log.exception("fedgate dev: check failed")

    async def _watch(self) -> None:
        """File-system notifications for the config and SDL files' folders (restarted when they change)."""
        from watchfiles import awatch

        while True:
            self._rewatch = asyncio.Event()
            dirs = self.sources.watched_dirs()
            relevant = {self.sources.config_path.resolve(), *(f.resolve() for f in self.sources.files())}
            try:
                async for changes in awatch(
                    *dirs, debounce=50, step=10, recursive=False, stop_event=self._rewatch, rust_timeout=500
                ):
                    if any(Path(p).resolve() in relevant for _, p in changes):
                        try:
                            await self.check()
                        except Exception:  # noqa: BLE001
                            log.exception("fedgate dev: check failed")
            except Exception as exc:  # noqa: BLE001 - notifications are an optimisation over polling
                self.say(f"fedgate dev: file notifications unavailable ({exc}); polling every {self.poll_interval}s")
                return
