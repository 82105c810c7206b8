"""The short soak on every `make test`: a few thousand requests of the domain mix with a subgraph restarted
every few seconds; no failed request, no growth in file descriptors or asyncio tasks, RSS flat.
`make soak` runs the long one (tests/soak/soak.py: 200,000 requests, a restart every 30 s)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from soak import run_soak  # noqa: E402

CONCURRENCY = 8


def test_short_soak_with_restarts(tmp_path: Path):
    report = run_soak(requests=3000, restart_every=4.0, concurrency=CONCURRENCY, warmup=1000, workdir=tmp_path)
    print("\n[soak]", report.summary())
    assert report.warmup is not None and report.end is not None
    assert report.failed == 0, report.failures
    assert report.restarts >= 2
    # Idle keep-alive connections to the subgraphs may differ by a few (at most one per concurrent
    # fetch); a leak would grow with the requests.
    assert report.end.fds <= report.warmup.fds + CONCURRENCY
    assert report.end.tasks <= report.warmup.tasks + 2
    # A short run only catches gross growth; `make soak` holds it to a few MB over 200,000 requests.
    assert report.rss_growth_kb < 16 * 1024
