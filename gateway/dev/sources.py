"""Where `fedgate dev` reads each subgraph's SDL, and what changed since the last read."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gateway.composition.compose import SubgraphInput
from gateway.composition.config import SubgraphSource, SupergraphConfigError, load_supergraph_config

_SERVICE_SDL = {"query": "{ _service { sdl } }"}


@dataclass(slots=True)
class SubgraphState:
    """The last SDL read for one subgraph (None until it could be read) and why it could not."""

    source: SubgraphSource
    sdl: str | None = None
    problem: str | None = None
    stat: tuple[int, int] | None = None


@dataclass(slots=True)
class DevSources:
    """The supergraph config (re-read when it changes) and the SDL of every subgraph it lists."""

    config_path: Path
    subgraphs: dict[str, SubgraphState] = field(default_factory=dict)
    config_digest: str | None = None
    config_problem: str | None = None

    def reload_config(self) -> bool:
        """Re-read the config file; True when the set of subgraphs or their sources changed.

        A config that does not load is reported in `config_problem` and the previous one stays.
        """
        try:
            text = self.config_path.read_bytes()
        except OSError as exc:
            self.config_problem = f"cannot read {self.config_path}: {exc.strerror or exc}"
            return False
        digest = hashlib.sha256(text).hexdigest()
        if digest == self.config_digest:
            return False
        try:
            config = load_supergraph_config(self.config_path)
        except SupergraphConfigError as exc:
            self.config_problem = exc.message
            self.config_digest = digest
            return False
        self.config_problem = None
        self.config_digest = digest
        before = {name: (s.source.routing_url, s.source.file, s.source.subgraph_url) for name, s in self.subgraphs.items()}
        kept: dict[str, SubgraphState] = {}
        for src in config.subgraphs:
            old = self.subgraphs.get(src.name)
            same = old is not None and (old.source.file, old.source.subgraph_url) == (src.file, src.subgraph_url)
            kept[src.name] = SubgraphState(src, old.sdl, old.problem, old.stat) if same and old else SubgraphState(src)
        self.subgraphs = kept
        after = {name: (s.source.routing_url, s.source.file, s.source.subgraph_url) for name, s in kept.items()}
        return before != after

    def files(self) -> list[Path]:
        """Every SDL file the config names."""
        return [s.source.file for s in self.subgraphs.values() if s.source.file is not None]

    def watched_dirs(self) -> list[Path]:
        """The folders to watch: the config file's and those of every SDL file."""
        dirs = {self.config_path.resolve().parent, *(f.parent for f in self.files())}
        return sorted(d for d in dirs if d.is_dir())

    def read_files(self, force: bool = False) -> list[str]:
        """Read the SDL files whose size or mtime changed (all with `force`); the names of those whose
        SDL (or readability) changed."""
        changed: list[str] = []
        for state in self.subgraphs.values():
            path = state.source.file
            if path is None:
                continue
            try:
                st = path.stat()
                stat = (st.st_mtime_ns, st.st_size)
                if stat == state.stat and not force:
                    continue
                state.stat = stat
                sdl = path.read_text()
            except (OSError, UnicodeDecodeError) as exc:
                problem = f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
                if problem != state.problem:
                    changed.append(path.name)
                state.problem, state.stat = problem, None
                continue
            if sdl != state.sdl or state.problem is not None:
                changed.append(path.name)
            state.sdl, state.problem = sdl, None
        return changed

    async def poll_urls(self, client: httpx.AsyncClient) -> bool:
        """Fetch `_service { sdl }` of every subgraph given by URL; True if an SDL changed."""
        polled = [s for s in self.subgraphs.values() if s.source.subgraph_url is not None]
        results = await asyncio.gather(*(_fetch_sdl(client, s.source.subgraph_url or "") for s in polled))
        changed = False
        for state, (sdl, problem) in zip(polled, results, strict=True):
            if sdl is not None:
                changed |= sdl != state.sdl or state.problem is not None
                state.sdl, state.problem = sdl, None
            else:
                # Unreachable: keep composing with the last SDL it gave, say so once.
                changed |= problem != state.problem and state.sdl is None
                state.problem = problem
        return changed

    def inputs(self) -> list[SubgraphInput]:
        """What to compose: every subgraph whose SDL could be read at least once."""
        return [SubgraphInput(s.source.name, s.source.routing_url, s.sdl) for s in self.subgraphs.values() if s.sdl is not None]

    def problems(self) -> list[tuple[str, str]]:
        """(subgraph, reason) for every source that cannot be read right now."""
        out = [(name, s.problem) for name, s in self.subgraphs.items() if s.problem is not None]
        if self.config_problem is not None:
            out.insert(0, (str(self.config_path), self.config_problem))
        return out


async def _fetch_sdl(client: httpx.AsyncClient, url: str) -> tuple[str | None, str | None]:
    try:
        response = await client.post(url, json=_SERVICE_SDL)
        body = response.json()
        sdl = body["data"]["_service"]["sdl"]
        if not isinstance(sdl, str):
            raise TypeError("`_service.sdl` is not a string")
        return sdl, None
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return None, f"cannot fetch the SDL of {url}: {type(exc).__name__}: {exc}"
