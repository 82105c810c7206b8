"""Serve one bench subgraph: `python -m bench.subgraphs.server NAME PORT [HOST]`.

POST /<name> (or /graphql) answers GraphQL; GET /health answers {"ok":true}; GET /stats tells
how many GraphQL requests were answered, so the bench can show each gateway's fetches per request.
"""

from __future__ import annotations

import sys

from .graphs import SUBGRAPHS
from .http import serve

_HEALTH = b'{"ok":true}'


def main(argv: list[str]) -> None:
    name, port = argv[0], int(argv[1])
    host = argv[2] if len(argv) > 2 else "127.0.0.1"
    graph = SUBGRAPHS[name]()
    answered = 0

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        nonlocal answered
        if method == "POST":
            answered += 1
            return 200, graph.execute(body)
        if path == "/health":
            return 200, _HEALTH
        if path == "/stats":
            return 200, b'{"requests":%d}' % answered
        return 405, b'{"errors":[{"message":"POST a GraphQL request"}]}'

    print(f"bench subgraph {name} on http://{host}:{port}/{name}", flush=True)
    serve(host, port, handler)


if __name__ == "__main__":
    main(sys.argv[1:])
