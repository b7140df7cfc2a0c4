"""Voila renders the widget notebook as an app: every cell runs on page load, and a change of
the ImageExplorer's image redraws the unit table."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_util import copy_notebooks, free_port, wait_port

pytestmark = pytest.mark.browser

NOTEBOOK = "05-widgets.ipynb"


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    pytest.importorskip("voila")
    base = tmp_path_factory.mktemp("voila")
    root = copy_notebooks(base / "notebooks")
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable,
        "-m",
        "voila",
        NOTEBOOK,
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        f"--token={token}",
    ]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(base / "jupyter"))
    with open(base / "voila.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            # standalone Voila has no /api/status (403 "File not allowlisted"): poll the port
            wait_port(port)
            yield f"http://127.0.0.1:{port}", token
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def test_voila_renders_the_widgets(voila: tuple[str, str], page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    base, token = voila
    page.goto(f"{base}/?token={token}")
    explorer = page.locator(".pk-image-explorer").first
    table = explorer.locator(".pk-units table")
    # Voila ran every cell: the notebook's last cells switched the explorer to webapp_2.1
    expect(table).to_contain_text("webapp.socket")
    # every tool rendered, the layer-stack diagram included
    expect(page.locator(".pk-layer-builder .pk-stack svg").first).to_be_visible()
    expect(page.locator(".pk-profile-comparer .pk-matrix table").first).to_contain_text(
        "PrivateNetwork"
    )
    explorer.locator(".widget-dropdown select").select_option("minimal")
    expect(table).to_contain_text("minimal.socket")
    assert "webapp.socket" not in (table.text_content() or "")
    builder = page.locator(".pk-layer-builder").first
    page.set_viewport_size({"width": 1400, "height": 2400})  # the whole tool in view
    builder.scroll_into_view_if_needed()
    builder.screenshot(path=str(artifacts / "voila-layer-builder.png"))
