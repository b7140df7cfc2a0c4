"""JupyterLab end to end: open the widget notebook, run all cells, change the ImageExplorer's
image in the browser, and see the unit table change."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_util import copy_notebooks, free_port, wait_http

pytestmark = pytest.mark.browser

NOTEBOOK = "05-widgets.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    pytest.importorskip("jupyterlab")
    base = tmp_path_factory.mktemp("lab")
    root = copy_notebooks(base / "notebooks")
    token, port = secrets.token_hex(16), free_port()
    settings = base / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # no "Would you like to get notified about official Jupyter news?" toast
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True})
    )
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "lab-settings"),
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
            wait_http(f"http://127.0.0.1:{port}/api/status?token={token}")
            yield f"http://127.0.0.1:{port}", token, root
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def test_lab_runs_the_widget_notebook_and_a_dropdown_changes_the_table(
    lab: tuple[str, str, Path], page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    base, token, root = lab
    cells = len(json.loads((root / NOTEBOOK).read_text())["cells"])
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
    # the notebook model and a connected, idle kernel; earlier, "Run All Cells" does nothing
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(cells)
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    explorer = page.locator(".pk-image-explorer").first
    table = explorer.locator(".pk-units table")
    # the notebook's own last cells switch the explorer to webapp_2.1
    expect(table).to_contain_text("webapp.socket")
    before = table.text_content()

    explorer.locator(".widget-dropdown select").select_option("minimal")  # the user's change
    expect(table).to_contain_text("minimal.socket")
    after = table.text_content()
    assert before != after and "webapp.socket" not in after and "minimalist.service" in after
    # every cell ran without an error, the assert cells at the end included
    errors = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0

    page.set_viewport_size({"width": 1400, "height": 2400})  # the whole tool in view
    explorer.scroll_into_view_if_needed()
    explorer.screenshot(path=str(artifacts / "lab-image-explorer.png"))
