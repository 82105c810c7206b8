"""Start Grafbase's gateway (`grafbase dev` from the npm CLI, offline) for a supergraph file.

`python -m bench.grafbase SUPERGRAPH PORT on|off`: reads each subgraph's name and URL from the
supergraph's `join__Graph` enum, takes its SDL from `bench/fixtures/guild-subgraphs/<name>.graphql`
or `schema/<name>.graphql`, writes a `grafbase.toml` with `url` + `schema_path` per subgraph (not
`introspection_url`, which re-introspects every ~2 s) and `inflight_deduplication` on or off,
then replaces itself with `grafbase dev --config ... --listen-address 127.0.0.1:PORT`.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BINARY = BENCH / "peers" / "node_modules" / "@grafbase" / "cli-x86_64-unknown-linux-musl" / "grafbase"
SDL_DIRS = (BENCH / "fixtures" / "guild-subgraphs", ROOT / "schema")
_GRAPH = re.compile(r'@join__graph\(\s*name:\s*"([^"]+)"\s*,\s*url:\s*"([^"]+)"\s*\)')


def subgraphs(supergraph: str) -> dict[str, str]:
    """{name: url} of every subgraph the supergraph routes to."""
    return dict(_GRAPH.findall(supergraph))


def config(supergraph: str, dedup: bool) -> str:
    """The grafbase.toml for `supergraph`."""
    lines = []
    for name, url in subgraphs(supergraph).items():
        sdl = next((d / f"{name}.graphql" for d in SDL_DIRS if (d / f"{name}.graphql").exists()), None)
        if sdl is None:
            raise SystemExit(f"no SDL for subgraph {name!r} in {', '.join(map(str, SDL_DIRS))}")
        lines += [f"[subgraphs.{name}]", f'url = "{url}"', f'schema_path = "{sdl}"', ""]
    lines += ["[traffic_shaping]", f"inflight_deduplication = {'true' if dedup else 'false'}", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    supergraph, port, dedup = Path(argv[0]).read_text(), int(argv[1]), argv[2] == "on"
    path = Path(tempfile.mkdtemp(prefix="grafbase-")) / "grafbase.toml"
    path.write_text(config(supergraph, dedup))
    os.execv(str(BINARY), [str(BINARY), "dev", "--config", str(path), "--listen-address", f"127.0.0.1:{port}"])


if __name__ == "__main__":
    main(sys.argv[1:])
