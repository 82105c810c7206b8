"""rover's supergraph config (`supergraph.yaml`): which subgraphs to compose and where their SDL is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compose import SubgraphInput


class SupergraphConfigError(Exception):
    """The config file is unreadable or not in rover's format."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class SubgraphSource:
    """One `subgraphs.<name>` entry."""

    name: str
    routing_url: str
    file: Path | None = None
    subgraph_url: str | None = None
    line: int | None = None


@dataclass(slots=True)
class SupergraphConfig:
    federation_version: str | None
    subgraphs: list[SubgraphSource]


_FED_VERSION = re.compile(r"^=?2(\.\d+){0,2}$")


def load_supergraph_config(path: str | Path) -> SupergraphConfig:
    """Read and check a rover supergraph config; schema files are resolved relative to it."""
    import yaml

    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SupergraphConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise SupergraphConfigError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SupergraphConfigError(f"{path}: expected a mapping at the top level")
    version = raw.get("federation_version")
    if version is not None:
        version = str(version)
        if not _FED_VERSION.match(version):
            raise SupergraphConfigError(
                f"{path}: unsupported federation_version {version!r} (fedgate composes Federation 2: use =2.x)")
    subs = raw.get("subgraphs")
    if not isinstance(subs, dict) or not subs:
        raise SupergraphConfigError(f"{path}: `subgraphs` must be a non-empty mapping")
    out: list[SubgraphSource] = []
    for name, entry in subs.items():
        if not isinstance(entry, dict):
            raise SupergraphConfigError(f"{path}: subgraphs.{name} must be a mapping")
        schema = entry.get("schema")
        if not isinstance(schema, dict):
            raise SupergraphConfigError(f"{path}: subgraphs.{name}.schema must be a mapping")
        routing_url = entry.get("routing_url")
        src = SubgraphSource(name=str(name), routing_url="" if routing_url is None else str(routing_url))
        if "file" in schema:
            src.file = (path.parent / str(schema["file"])).resolve()
        elif "subgraph_url" in schema:
            src.subgraph_url = str(schema["subgraph_url"])
            if routing_url is None:
                src.routing_url = src.subgraph_url
        else:
            raise SupergraphConfigError(
                f"{path}: subgraphs.{name}.schema needs `file` or `subgraph_url` (graphref is not supported offline)")
        out.append(src)
    return SupergraphConfig(federation_version=version, subgraphs=out)


def fetch_sdl(url: str, timeout: float = 10.0) -> str:
    """Fetch a running subgraph's SDL with `{ _service { sdl } }`."""
    import httpx

    try:
        resp = httpx.post(url, json={"query": "{ _service { sdl } }"}, timeout=timeout)
        resp.raise_for_status()
        body = resp.json()
        return str(body["data"]["_service"]["sdl"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise SupergraphConfigError(f"cannot fetch the SDL of {url}: {exc}") from exc


def read_subgraphs(config: SupergraphConfig) -> list[SubgraphInput]:
    """The SDL of every configured subgraph (files read, URLs fetched)."""
    inputs: list[SubgraphInput] = []
    for src in config.subgraphs:
        if src.file is not None:
            try:
                sdl = src.file.read_text()
            except OSError as exc:
                raise SupergraphConfigError(
                    f"subgraph {src.name}: cannot read {src.file}: {exc.strerror or exc}") from exc
        else:
            assert src.subgraph_url is not None
            sdl = fetch_sdl(src.subgraph_url)
        inputs.append(SubgraphInput(src.name, src.routing_url, sdl))
    return inputs
