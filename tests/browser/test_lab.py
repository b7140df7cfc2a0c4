"""JupyterLab end to end: open notebook 05, run all cells, then drive every control of every
widget as a learner would - each dropdown, checkbox, text box, button, and the extension
picker with the keyboard only - and check what each view shows afterwards.

JupyterLab virtualises long notebooks (cells out of view are not in the page); the server is
started with windowing off, and each tool is scrolled into view before it is used.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import drive
import pytest
from browser_util import copy_notebooks, free_port, wait_http

pytestmark = pytest.mark.browser

NOTEBOOK = "05-widgets.ipynb"


def _settings(base: Path) -> Path:
    """JupyterLab user settings: no news toast, every cell rendered (no windowing)."""
    root = base / "lab-settings" / "@jupyterlab"
    files = {
        "apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
            "doNotDisturbMode": True,
        },
        "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for rel, value in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    return base / "lab-settings"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    pytest.importorskip("jupyterlab")
    base = tmp_path_factory.mktemp("lab")
    root = copy_notebooks(base / "notebooks")
    token, port = secrets.token_hex(16), free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(_settings(base)),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with open(base / "lab.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env)
        try:
            wait_http(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=180)
            yield f"http://127.0.0.1:{port}", token, root
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _run_all(page: Any, cells: int, code_cells: int) -> None:
    from playwright.sync_api import expect

    # the notebook model and a connected, idle kernel; earlier, "Run All Cells" does nothing
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(cells)
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # every code cell has run when the last one shows its execution count (a fresh kernel
    # counts from 1)
    last = page.locator(".jp-CodeCell").last
    last.scroll_into_view_if_needed()
    expect(last.locator(".jp-InputArea-prompt")).to_have_text(f"[{code_cells}]:")
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible()


def test_lab_every_control_of_every_widget(
    lab: tuple[str, str, Path], page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    base, token, root = lab
    nb = json.loads((root / NOTEBOOK).read_text())
    cells = len(nb["cells"])
    code_cells = sum(c["cell_type"] == "code" for c in nb["cells"])
    start = time.monotonic()
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
    _run_all(page, cells, code_cells)
    ran = time.monotonic()
    # every cell ran without an error, the assert cells at the end included
    errors = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0

    # the standalone tools come first in the page, the Dashboard's copies after them
    drive.explorer(page.locator(".pk-image-explorer").first)
    drive.comparer(page.locator(".pk-profile-comparer").first)
    drive.builder(page.locator(".pk-layer-builder").first, page)
    drive.simulator(page.locator(".pk-attach-simulator").first)
    dash = page.locator(".pk-dashboard").first
    dash.scroll_into_view_if_needed()
    drive.dashboard(dash, page)
    expect(dash.locator(".pk-image-explorer .pk-c-verdict").first).to_contain_text("would succeed")
    (artifacts / "lab-timings.txt").write_text(
        f"run all: {ran - start:.1f} s\ndrive every control: {time.monotonic() - ran:.1f} s\n"
    )
