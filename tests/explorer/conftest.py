"""Fixtures for the explorer: `fedgate serve` with and without the page over the three real
subgraphs, and a headless Debian Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from explorer_helpers import CHROMIUM, CHROMIUM_FLAGS, ServiceProcess, serve


@pytest.fixture(scope="session")
def explorer_gateway(subgraphs: dict[str, ServiceProcess], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """`fedgate serve --explorer`, as `make run` starts it (one for the whole session)."""
    proc = serve(subgraphs, tmp_path_factory.mktemp("explorer"), "--explorer")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"machine capability missing: no Chromium at {CHROMIUM} (make test installs Debian's chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Chromium (Debian's), shared by a module's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()
