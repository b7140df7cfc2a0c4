"""Real-browser tests: JupyterLab and Voila on 127.0.0.1, driven by Debian's Chromium through
Playwright. They run only when asked for with ``-m browser`` (they take ~30 s and need the
``notebooks`` extra and ``apt-get install chromium``; see ``.ci/notebook-deps.sh``). The
binder/ check runs with ``-m binder``.

Pitfalls: one ``sync_playwright()`` per session,
``executable_path``, requests off 127.0.0.1 aborted, wait for "| Idle" before Run All.

They must hold on a loaded 2-core machine: every wait is for something to appear, with a
generous timeout (:data:`TIMEOUT`, also Playwright's ``expect`` default, which is 5 s
otherwise), never a fixed sleep.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_util import ARTIFACTS

CHROMIUM = os.environ.get("PORTABLEKIT_CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]

#: How long any one wait may take (ms): a cell, a kernel reply, a server start under load.
TIMEOUT = 180_000


#: Slow or tool-dependent tests here run only when their marker is asked for with ``-m``.
OPT_IN = {
    "browser": "real-browser test (run with -m browser)",
    "binder": "checks binder/ with jupyter-repo2docker --no-build (run with -m binder)",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in OPT_IN.items():
        config.addinivalue_line("markers", f"{name}: {doc}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    asked = config.option.markexpr or ""
    for name, doc in OPT_IN.items():
        if name in asked:
            continue
        skip = pytest.mark.skip(reason=doc)
        for item in items:
            if item.get_closest_marker(name) is not None:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install chromium")
    sync_api.expect.set_options(timeout=TIMEOUT)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        yield b
        b.close()


def _local_only(route: Any) -> None:
    # The network may be closed: a CDN request (Voila's template asks for font-awesome) can
    # hang in DNS and hold the page's load event. Everything off 127.0.0.1 is aborted.
    if route.request.url.startswith(
        ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "file:")
    ):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.route("**/*", _local_only)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT)
    yield pg
    ctx.close()
