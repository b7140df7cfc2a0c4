"""The classroom app in Voila: the Dashboard with no code visible. Every tab is opened and
every control of every tool driven, as in the JupyterLab test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import drive
import pytest
from browser_util import voila_server

pytestmark = pytest.mark.browser

NOTEBOOK = "classroom.ipynb"


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    pytest.importorskip("voila")
    with voila_server(tmp_path_factory.mktemp("voila"), NOTEBOOK) as served:
        yield served


def test_classroom_app_every_control(voila: tuple[str, str], page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    base, token = voila
    start = time.monotonic()
    page.goto(f"{base}/?token={token}")
    dash = page.locator(".pk-dashboard")
    expect(dash).to_have_count(1)
    # no code and no stray output: the title, then the app
    expect(page.get_by_text("portablekit classroom")).to_be_visible()
    assert page.get_by_text("sample_sandbox").count() == 0  # the code is not shown
    explorer, comparer, builder, simulator = drive.dashboard(dash, page)
    shown = time.monotonic()
    page.set_viewport_size({"width": 1400, "height": 2400})
    tabs = dash.locator(".lm-TabBar-tab")
    tabs.nth(0).click()
    drive.explorer(explorer)
    tabs.nth(1).click()
    drive.comparer(comparer)
    tabs.nth(2).click()
    drive.builder(builder, page)
    tabs.nth(3).click()
    drive.simulator(simulator)
    # back to the images: the tab switch shows the root as the simulator left it
    tabs.nth(0).click()
    expect(explorer.locator(".pk-c-units").first).to_contain_text("webapp.socket")
    simulator_shot = artifacts / "voila-classroom-attach.png"
    tabs.nth(3).click()
    dash.screenshot(path=str(simulator_shot))
    (artifacts / "voila-timings.txt").write_text(
        f"app shown: {shown - start:.1f} s\ndrive every control: {time.monotonic() - shown:.1f} s\n"
    )
