"""Screenshots of every widget as a learner sees it: notebook 05 served by Voila in Debian's
Chromium, one picture per tool and one per Dashboard tab.

    python tests/browser/screenshots.py OUT_DIR [PREFIX]

Writes ``PREFIX-image-explorer.png``, ``PREFIX-profile-comparer.png``,
``PREFIX-layer-builder.png``, ``PREFIX-attach-simulator.png`` and
``PREFIX-dashboard-<tab>.png`` (the README shows the ones in ``docs/screenshots/``). Needs the
``notebooks`` extra and ``apt-get install chromium``, as the browser tests do.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from browser_util import voila_server

CHROMIUM = os.environ.get("PORTABLEKIT_CHROMIUM", "/usr/bin/chromium")
NOTEBOOK = "05-widgets.ipynb"
TOOLS = {
    "image-explorer": ".pk-image-explorer",
    "profile-comparer": ".pk-profile-comparer",
    "layer-builder": ".pk-layer-builder",
    "attach-simulator": ".pk-attach-simulator",
}


def _local_only(route: object) -> None:
    url: str = route.request.url  # type: ignore[attr-defined]
    if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "file:")):
        route.continue_()  # type: ignore[attr-defined]
    else:
        route.abort()  # type: ignore[attr-defined]


def take(out: Path, prefix: str) -> list[Path]:
    """Serve 05 with Voila and photograph each tool; returns the files written."""
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        with voila_server(base, NOTEBOOK) as (url, token), sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            )
            ctx = browser.new_context(viewport={"width": 1280, "height": 2400})
            ctx.route("**/*", _local_only)
            page = ctx.new_page()
            page.set_default_timeout(180_000)
            page.goto(f"{url}/?token={token}")
            dash = page.locator(".pk-dashboard").first
            expect(dash).to_be_visible()
            for name, css in TOOLS.items():
                tool = page.locator(css).first
                expect(tool.locator(".widget-html-content").first).to_be_attached()
                tool.scroll_into_view_if_needed()
                path = out / f"{prefix}-{name}.png"
                tool.screenshot(path=str(path))
                written.append(path)
            tabs = dash.locator(".lm-TabBar-tab, .p-TabBar-tab")
            for i in range(tabs.count()):
                tab = tabs.nth(i)
                title = (tab.text_content() or str(i)).strip().lower()
                tab.click()
                dash.scroll_into_view_if_needed()
                path = out / f"{prefix}-dashboard-{title}.png"
                dash.screenshot(path=str(path))
                written.append(path)
            browser.close()
    return written


if __name__ == "__main__":
    args = sys.argv[1:]
    if not 1 <= len(args) <= 2:
        sys.exit(__doc__)
    for f in take(Path(args[0]), args[1] if len(args) > 1 else "widgets"):
        print(f)
