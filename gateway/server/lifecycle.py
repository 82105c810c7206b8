"""Lifecycle of a serving gateway: supergraph hot reload, readiness, graceful drain on SIGTERM.

- Reload: `--supergraph PATH` is checked on every file-system notification about its folder
  (watchfiles, when `lifecycle.file_notifications`) and every `lifecycle.watch_interval` seconds as
  the fallback (mtime and size, then a content hash); `--supergraph-url URL` is polled every `lifecycle.poll_interval` seconds with
  `If-None-Match`. A new supergraph that loads replaces the old one in one assignment
  (`GatewayState.load`): a request keeps the pipeline it started with. One that fails to load is
  refused: the old one stays, a log line and `fedgate_supergraph_reloads{result="refused"}` say so.
- Drain: SIGTERM turns `/ready` 503 at once and makes every response `Connection: close`; after
  `lifecycle.shutdown_delay` the listener closes, in-flight requests get `lifecycle.drain_timeout`
  seconds to finish, and the process exits 0. SIGINT skips the delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import GatewayConfig, LifecycleConfig
from gateway.supergraph import Supergraph

log = logging.getLogger("fedgate.lifecycle")


class _State(Protocol):
    pipeline: Any
    transport: Any

    def load(self, supergraph: Supergraph) -> None: ...


def _default_loader(sdl: str) -> Supergraph:
    from gateway.supergraph import load_supergraph

    return load_supergraph(sdl)


class Lifecycle:
    """Reload watchers and the draining flag of one gateway app (see the module docstring)."""

    def __init__(
        self,
        state: _State,
        config: LifecycleConfig | None = None,
        loader: Callable[[str], Supergraph] = _default_loader,
    ) -> None:
        self.state = state
        self.config = config or LifecycleConfig()
        self.loader = loader
        self.draining = False
        self.reloads = 0
        self.refused = 0
        self.last_error: str | None = None
        self._path: Path | None = None
        self._stat: tuple[int, int] | None = None
        self._url: str | None = None
        self._etag: str | None = None
        self._token: str | None = None
        self._hash: str | None = None
        self._refused_hash: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # One check of the file at a time: a slow load of an older read must not land after a newer one.
        self._file_lock = asyncio.Lock()
        self.notifications = False  # True while file-system notifications are being received
        # Called (from the signal handler) when draining starts: subscriptions complete and close.
        # A hook may return a "done?" check: the listener closes only once every check passes (or
        # after DRAIN_HOOK_GRACE), so subscriptions get their `complete` before uvicorn closes sockets.
        self.on_drain: list[Callable[[], Callable[[], bool] | None]] = []
        self._drain_pending: list[Callable[[], bool]] = []

    # -- setup ----------------------------------------------------------------------------------

    def watch_file(self, path: str | Path, loaded_sdl: str | None = None) -> None:
        """Reload from `path` when it changes; `loaded_sdl` is the text already being served."""
        self._path = Path(path)
        self._stat = self._file_stat()
        if loaded_sdl is None:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                loaded_sdl = self._path.read_text()
        self._hash = _digest(loaded_sdl) if loaded_sdl is not None else None

    def watch_url(
        self, url: str, etag: str | None = None, loaded_sdl: str | None = None, token: str | None = None
    ) -> None:
        """Poll `url` for a new supergraph (conditional GET with the last ETag; `token`: a registry read token)."""
        self._url = url
        self._etag = etag
        self._token = token
        if loaded_sdl is not None:
            self._hash = _digest(loaded_sdl)

    async def start(self) -> None:
        """Start the watchers (called from the app's lifespan)."""
        if self._path is not None:
            self._tasks.append(asyncio.create_task(self._every(self.config.watch_interval, self.check_file)))
            if self.config.file_notifications:
                self._tasks.append(asyncio.create_task(self._notified()))
        if self._url is not None:
            self._tasks.append(asyncio.create_task(self._every(self.config.poll_interval, self.poll_url)))

    async def stop(self) -> None:
        """Stop the watchers."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def drain_hooks_done(self) -> bool:
        """Have the drain hooks (subscriptions completing) finished?"""
        return all(done() for done in self._drain_pending)

    def begin_drain(self) -> None:
        """From now on `/ready` answers 503 and responses close their connection."""
        if not self.draining:
            self.draining = True
            for hook in self.on_drain:
                done = hook()
                if done is not None:
                    self._drain_pending.append(done)
            log.info("draining: /ready is 503, the listener closes in %.1fs", self.config.shutdown_delay)

    # -- reload ---------------------------------------------------------------------------------

    async def _every(self, interval: float, check: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await check()
            except Exception:  # noqa: BLE001 - a watcher must outlive one bad check
                log.exception("supergraph watcher failed")

    async def _notified(self) -> None:
        """Check the file on every change in its folder (watching the folder, not the file, also sees a
        rename over it and a Kubernetes ConfigMap's symlink swap). Where notifications are unavailable
        (no inotify, a network file system) this ends and the poll in `_every` carries on alone."""
        assert self._path is not None
        try:
            from watchfiles import awatch
        except ImportError:  # pragma: no cover - a dependency; polling still works without it
            log.warning("watchfiles is not installed: polling %s every %.1fs", self._path, self.config.watch_interval)
            return
        directory = self._path.parent
        try:
            # `step`: how long a burst of events may stay quiet before it is handed over (ms);
            # `debounce`: the longest a burst is held. Both small: reload latency is the point.
            self.notifications = True
            # Only the file itself and Kubernetes' `..data` swap count: a log file written in the same
            # folder must not wake the watcher (and watchfiles' own INFO line per wake-up would feed
            # that log in a loop).
            name = self._path.name
            logging.getLogger("watchfiles").setLevel(logging.WARNING)
            async for _changes in awatch(
                directory, debounce=100, step=10, recursive=False,
                watch_filter=lambda _change, path: (base := os.path.basename(path)) == name or base.startswith(".."),
            ):
                try:
                    await self.check_file()
                except Exception:  # noqa: BLE001 - a watcher must outlive one bad check
                    log.exception("supergraph watcher failed")
        except Exception as exc:  # noqa: BLE001 - notifications are an optimisation over polling
            log.warning(
                "file notifications for %s unavailable (%s): polling every %.1fs",
                directory, exc, self.config.watch_interval,
            )
        finally:
            self.notifications = False

    def _file_stat(self) -> tuple[int, int] | None:
        assert self._path is not None
        try:
            st = self._path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    async def check_file(self) -> bool:
        """Reload the watched file if it changed; True when a new supergraph was swapped in."""
        async with self._file_lock:
            return await self._check_file()

    async def _check_file(self) -> bool:
        stat = self._file_stat()
        if stat is None or stat == self._stat:
            return False
        self._stat = stat
        assert self._path is not None
        try:
            sdl = self._path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            self._refuse(None, f"cannot read {self._path}: {exc}")
            return False
        return await self.offer(sdl, str(self._path))

    async def poll_url(self) -> bool:
        """Fetch the watched URL (conditionally); True when a new supergraph was swapped in."""
        assert self._url is not None
        headers = _auth_headers(self._token)
        if self._etag:
            headers["if-none-match"] = self._etag
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(self._url, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("supergraph poll of %s failed: %s", self._url, exc)
            return False
        if response.status_code == 304:
            return False
        if response.status_code != 200:
            log.warning("supergraph poll of %s answered %d", self._url, response.status_code)
            return False
        swapped = await self.offer(response.text, self._url)
        self._etag = response.headers.get("etag") or None
        return swapped

    async def offer(self, sdl: str, source: str) -> bool:
        """Load `sdl` and swap it in; a supergraph that fails to load is refused and the old one stays."""
        digest = _digest(sdl)
        if digest == self._hash or digest == self._refused_hash:
            return False
        try:
            # Loading is CPU work: a thread keeps the event loop answering meanwhile.
            supergraph = await asyncio.to_thread(self.loader, sdl)
        except Exception as exc:  # noqa: BLE001 - any loader failure is a refusal
            code = getattr(exc, "code", type(exc).__name__)
            self._refuse(digest, f"{source}: [{code}] {getattr(exc, 'message', exc)}")
            return False
        caches = getattr(self.state, "caches", None)
        if caches is not None:
            try:
                # The most used operations are planned for the new schema before it takes traffic.
                await caches.warm(supergraph)
            except Exception:  # noqa: BLE001 - a warm-up failure must not cost the reload
                log.exception("plan warm-up for the new supergraph failed; plans will be made on demand")
        self.state.load(supergraph)
        self._hash = digest
        self._refused_hash = None
        self.reloads += 1
        self.last_error = None
        _count_reload("loaded")
        log.info("supergraph reloaded from %s", source)
        return True

    def _refuse(self, digest: str | None, reason: str) -> None:
        self._refused_hash = digest
        self.refused += 1
        self.last_error = reason
        _count_reload("refused")
        log.error("supergraph reload refused, still serving the previous one: %s", reason)

    # -- readiness ------------------------------------------------------------------------------

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) of `/ready`: 503 while draining or before a supergraph is loaded."""
        # Every subgraph of the served supergraph: those not called yet have a closed circuit.
        supergraph = getattr(self.state.pipeline, "supergraph", None)
        circuits = dict.fromkeys(getattr(supergraph, "subgraph_urls", ()), "closed")
        circuits.update(_circuit_states(self.state.transport))
        body: dict[str, Any] = {
            "status": "ready",
            "circuits": circuits,
            "supergraph": {"reloads": self.reloads, "refused": self.refused, "last_error": self.last_error},
        }
        if self.draining:
            body["status"] = "draining"
            return 503, body
        if self.state.pipeline is None:
            body["status"] = "no_supergraph"
            return 503, body
        return 200, body

    async def ready(self, request: Request) -> Response:
        """The `/ready` route."""
        status, body = self.readiness()
        return Response(orjson.dumps(body), status_code=status, media_type="application/json")

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Wrap `app` so responses say `Connection: close` while draining (clients move elsewhere)."""
        lifecycle = self

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not lifecycle.draining:
                await app(scope, receive, send)
                return

            async def send_closing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
                await send(message)

            await app(scope, receive, send_closing)

        return wrapped


def _circuit_states(transport: Any) -> dict[str, str]:
    """The circuit states of the ResilientTransport inside `transport` (it may be wrapped)."""
    for _ in range(5):
        if transport is None:
            break
        states = getattr(transport, "circuit_states", None)
        if states is not None:
            return dict(states())
        transport = getattr(transport, "inner", None) or getattr(transport, "base", None)
    return {}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _count_reload(result: str) -> None:
    from gateway.observability.metrics import SUPERGRAPH_RELOADS

    SUPERGRAPH_RELOADS.labels(result=result).inc()


def _auth_headers(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


def fetch_supergraph(url: str, token: str | None = None) -> tuple[str, str | None]:
    """GET the supergraph at `url` once (at startup): (SDL, ETag); `token` is sent as a Bearer token."""
    response = httpx.get(url, timeout=10, headers=_auth_headers(token))
    response.raise_for_status()
    return response.text, response.headers.get("etag")


def serve(
    app: Any, config: GatewayConfig, lifecycle: Lifecycle, log_level: str = "info", sock: Any = None
) -> None:
    """Run `app` under uvicorn with fedgate's signal handling (drain on SIGTERM); return on exit.

    `sock`: an already listening socket (one of `--workers N` processes) instead of host/port."""
    uv_config = uvicorn.Config(
        lifecycle.middleware(app),
        host=config.host,
        port=config.port,
        log_level=log_level,
        # JSON logs: uvicorn's own lines go through fedgate's handler too, as JSON.
        log_config=None if config.telemetry.logging.format == "json" else uvicorn.config.LOGGING_CONFIG,
        access_log=False,
        timeout_graceful_shutdown=int(config.lifecycle.drain_timeout) or None,
    )
    _DrainingServer(uv_config, lifecycle).run(sockets=[sock] if sock is not None else None)


DRAIN_HOOK_GRACE = 5.0  # seconds past shutdown_delay the drain hooks may still take


class _DrainingServer(uvicorn.Server):
    """uvicorn.Server whose SIGTERM drains first (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, lifecycle: Lifecycle) -> None:
        super().__init__(config)
        self.lifecycle = lifecycle
        self._exit_at: float | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Unlike uvicorn's own, do not re-raise the signal afterwards: a drained exit is exit 0.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def _on_signal(self, sig: int, frame: Any) -> None:
        if sig == signal.SIGTERM and not self.lifecycle.draining:
            self.lifecycle.begin_drain()
            self._exit_at = time.monotonic() + self.lifecycle.config.shutdown_delay
            return
        if self.should_exit:
            self.force_exit = True  # a second signal: stop waiting for requests
        self.lifecycle.begin_drain()
        self.should_exit = True

    async def on_tick(self, counter: int) -> bool:
        now = time.monotonic()
        if self._exit_at is not None and now >= self._exit_at:
            if self.lifecycle.drain_hooks_done() or now >= self._exit_at + DRAIN_HOOK_GRACE:
                self.should_exit = True
        return await super().on_tick(counter)


__all__ = ["Lifecycle", "fetch_supergraph", "serve"]
