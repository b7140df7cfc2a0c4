"""Drive every control of every portablekit widget in a real browser, as a learner would, and
check what each one shows afterwards. Shared by the JupyterLab test (notebook 05) and the
Voila test (the classroom app).

Controls are found by the class every widget gives its controls and views (``pk-c-<name>``,
the attribute's name) and the picker's own classes. Nothing waits a fixed time: each step
waits for what the kernel sends back to appear (Playwright's ``expect``, with the generous
timeout the conftest sets), so a loaded machine only makes the test slower.
"""

from __future__ import annotations

from typing import Any


def expect(target: Any) -> Any:
    """Playwright's ``expect``, imported on first use: the unit run collects this module on a
    machine where the browser extra is not installed yet (``make test`` installs it later)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def _select(tool: Any, name: str, label: str) -> None:
    tool.locator(f".pk-c-{name} select").first.select_option(label=label)


def _tick(tool: Any, name: str, on: bool) -> None:
    box = tool.locator(f".pk-c-{name} input[type=checkbox]").first
    if box.is_checked() != on:
        box.click()
    if on:
        expect(box).to_be_checked()
    else:
        expect(box).not_to_be_checked()


def _click(tool: Any, name: str) -> None:
    tool.locator(f".pk-c-{name}").first.click()


def _view(tool: Any, name: str) -> Any:
    return tool.locator(f".pk-c-{name}").first


# ipywidgets sends a control's new value late while the kernel is busy (only the latest is
# kept), a button click at once: a click must not overtake the choice it acts on. So before a
# click the test waits for the kernel to show it has the choice: the picker's buttons name what
# they act on, the simulator prints the command lines its buttons run.


def _seen(tool: Any, button: str, title: str) -> None:
    expect(tool.locator(f".pk-picker-{button}").first).to_have_attribute("title", title)


def _command(tool: Any, *flags: str) -> None:
    line = _view(tool, "command").locator(".pk-command-attach")
    for flag in ("--runtime", "--enable", "--now"):
        if flag in flags:
            expect(line).to_contain_text(flag)
        else:
            expect(line).not_to_contain_text(flag)


def explorer(tool: Any) -> None:
    """ImageExplorer: the image list, the prefixes box, the rescan button."""
    tool.scroll_into_view_if_needed()
    expect(_view(tool, "verdict")).to_contain_text("would succeed")
    _select(tool, "image", "debug-tools")
    expect(_view(tool, "status")).to_contain_text("debug-tools is an extension (sysext)")
    expect(_view(tool, "verdict")).to_contain_text("--extension debug-tools would succeed")
    _select(tool, "image", "webapp_2.1")
    expect(_view(tool, "units")).to_contain_text("webapp.socket")
    tool.locator(".pk-c-prefixes input").first.fill("webapp-cleanup")
    expect(_view(tool, "verdict")).to_contain_text("Acceptable prefix matches are")
    expect(_view(tool, "verdict")).to_contain_text("In plain words")
    expect(_view(tool, "findings")).to_contain_text("prefix-not-allowed")
    tool.locator(".pk-c-prefixes input").first.fill("")
    expect(_view(tool, "verdict")).to_contain_text("would succeed")
    _click(tool, "refresh_button")
    expect(_view(tool, "units")).to_contain_text("webapp.socket")


def comparer(tool: Any) -> None:
    """ProfileComparer: profiles, only differences, the unit to score, your own unit."""
    tool.scroll_into_view_if_needed()
    matrix, scores, checks = _view(tool, "matrix"), _view(tool, "scores"), _view(tool, "checks")
    expect(matrix).to_contain_text("PrivateNetwork")
    expect(checks).to_contain_text("PrivateNetwork=")
    expect(tool.locator(".pk-c-systemd select").first).to_be_disabled()  # the root's version
    tool.locator(".pk-c-profiles select").first.select_option(["default", "strict", "trusted"])
    expect(scores).to_contain_text("trusted")
    expect(matrix).to_contain_text("MountAPIVFS")
    _tick(tool, "only_differences", True)
    expect(matrix).not_to_contain_text("MountAPIVFS")
    _tick(tool, "only_differences", False)
    expect(matrix).to_contain_text("MountAPIVFS")
    _select(tool, "unit", "webapp_2.1: webapp.service")
    expect(scores).to_contain_text("systemd-analyze security webapp.service")
    _select(tool, "unit", "your own unit (type it below)")
    expect(tool.locator(".pk-c-unit_text textarea").first).to_be_visible()
    tool.locator(".pk-c-unit_name input").first.fill("mine.service")
    expect(scores).to_contain_text("systemd-analyze security mine.service")
    before = scores.inner_text()
    tool.locator(".pk-c-unit_text textarea").first.fill(
        "[Service]\nExecStart=/usr/bin/mine\nPrivateNetwork=yes\nProtectSystem=strict\n"
    )
    expect(scores).not_to_have_text(before)
    _click(tool, "refresh_button")
    expect(scores).to_contain_text("mine.service")


def _type_name(page: Any, tool: Any, name: str) -> None:
    """Keyboard only: focus the picker's box (as Tab from the list before it does), clear
    it, type the name."""
    box = tool.locator(".pk-picker-name input").first
    box.focus()
    expect(box).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.type(name)
    expect(box).to_have_value(name)


def _press(page: Any, tool: Any, button: str) -> None:
    """Keyboard only: Tab from the box to ``button`` (disabled buttons are skipped), Enter."""
    target = tool.locator(f".pk-picker-{button}").first
    for _ in range(6):
        page.keyboard.press("Tab")
        if target.evaluate("b => b === document.activeElement"):
            break
    expect(target).to_be_focused()
    page.keyboard.press("Enter")


def builder(tool: Any, page: Any) -> None:
    """LayerBuilder: the base list, and the extension picker with the keyboard only."""
    tool.scroll_into_view_if_needed()
    stack, verdict = _view(tool, "stack"), _view(tool, "verdict")
    chosen = tool.locator(".pk-picker-chosen select").first
    _select(tool, "base", "minimal")
    expect(stack).to_contain_text("minimal")
    # take off whatever is stacked (the notebook may start with a stack)
    for name in [t.strip() for t in chosen.locator("option").all_inner_texts()]:
        _type_name(page, tool, name)
        _seen(tool, "remove", f"take {name} off the stack")
        _press(page, tool, "remove")
        expect(chosen.locator("option", has_text=name)).to_have_count(0)
    expect(verdict).to_contain_text("would succeed")
    # debug-tools: type its name, Tab to Add, Enter
    _type_name(page, tool, "debug-tools")
    _seen(tool, "add", "stack debug-tools on top")
    _press(page, tool, "add")
    expect(chosen.locator("option")).to_have_text(["debug-tools"])
    expect(stack).to_contain_text("debug-tools")
    expect(verdict).to_contain_text("would succeed")
    expect(_view(tool, "units")).to_contain_text("minimal-debug.service")
    # webapp-tls on top: refused on this base (its prefixes), and explained
    _type_name(page, tool, "webapp-tls")
    _seen(tool, "add", "stack webapp-tls on top")
    _press(page, tool, "add")
    expect(chosen.locator("option")).to_have_text(["webapp-tls", "debug-tools"])
    expect(verdict).to_contain_text("Acceptable prefix matches are")
    expect(verdict).to_contain_text("In plain words")
    # one layer down, then up again
    _seen(tool, "down", "move webapp-tls one layer lower")
    _press(page, tool, "down")
    expect(chosen.locator("option")).to_have_text(["debug-tools", "webapp-tls"])
    _type_name(page, tool, "webapp-tls")
    _seen(tool, "up", "move webapp-tls one layer higher")
    _press(page, tool, "up")
    expect(chosen.locator("option")).to_have_text(["webapp-tls", "debug-tools"])
    # the mouse works too: a click in the stack list puts the name in the box
    chosen.select_option(label="debug-tools")
    expect(tool.locator(".pk-picker-name input").first).to_have_value("debug-tools")
    _click(tool, "refresh_button")
    expect(stack).to_contain_text("webapp-tls")


def simulator(tool: Any) -> None:
    """AttachSimulator: image, profile, --copy, --runtime/--enable/--now, the three buttons."""
    tool.scroll_into_view_if_needed()
    state, status = _view(tool, "state"), _view(tool, "status")
    plan, verdict = _view(tool, "plan"), _view(tool, "verdict")
    _select(tool, "image", "minimal")
    _select(tool, "profile", "strict")
    expect(plan).to_contain_text("profile/strict/service.conf")
    _command(tool)
    _select(tool, "copy", "copy")  # the profile is copied, not linked
    changes = _view(tool, "changes")
    expect(changes).to_contain_text("Copied /usr/lib/systemd/portable/profile/strict/service.conf")
    _select(tool, "copy", "auto")
    expect(changes).not_to_contain_text("Copied /usr/lib/systemd/portable/profile/strict")
    expect(state).to_contain_text("detached")
    _tick(tool, "enable", True)
    _tick(tool, "now", True)
    _command(tool, "--enable", "--now")
    expect(plan).to_contain_text("sockets.target.wants/minimal.socket")
    _click(tool, "attach_button")
    expect(status).to_contain_text("minimal attached")
    expect(status).to_contain_text("started")
    expect(state).to_contain_text("running")
    expect(verdict).to_contain_text("a second Attach would fail")
    _click(tool, "attach_button")
    expect(status).to_contain_text("Attach failed")
    expect(status).to_contain_text("Reattach replaces")
    _click(tool, "reattach_button")
    expect(status).to_contain_text("minimal reattached")
    _tick(tool, "now", False)
    _tick(tool, "enable", False)
    _command(tool)
    _click(tool, "detach_button")
    expect(status).to_contain_text("is active, can't detach")
    expect(status).to_contain_text("tick --now")
    _tick(tool, "now", True)
    _tick(tool, "enable", True)
    _command(tool, "--enable", "--now")
    _click(tool, "detach_button")
    expect(status).to_contain_text("minimal detached")
    expect(state).to_contain_text("detached")
    _tick(tool, "now", False)
    _tick(tool, "enable", False)
    # --runtime: attach in /run, then the hint when it is unticked
    _tick(tool, "runtime", True)
    _command(tool, "--runtime")
    _click(tool, "attach_button")
    expect(state).to_contain_text("attached-runtime")
    _tick(tool, "runtime", False)
    expect(state).to_contain_text("tick --runtime")
    _command(tool)
    _click(tool, "detach_button")
    expect(status).to_contain_text("No unit files associated")
    expect(status).to_contain_text("tick --runtime")
    _tick(tool, "runtime", True)
    _command(tool, "--runtime")
    _click(tool, "detach_button")
    expect(status).to_contain_text("minimal detached")
    _tick(tool, "runtime", False)
    # an extension through the picker (mouse this time), and the rescan button
    _select(tool, "image", "webapp_2.1")
    tool.locator(".pk-picker-available select").first.select_option(label="webapp-tls")
    expect(tool.locator(".pk-picker-name input").first).to_have_value("webapp-tls")
    _seen(tool, "add", "stack webapp-tls on top")
    _click(tool, "extensions .pk-picker-add")
    expect(tool.locator(".pk-picker-chosen option")).to_have_text(["webapp-tls"])
    expect(plan).to_contain_text("/etc/portables/webapp-tls")
    _click(tool, "refresh_button")
    expect(state).to_contain_text("detached")


def dashboard(tabs_root: Any, page: Any) -> list[Any]:
    """Click through the Dashboard's tabs; returns the four tools as locators."""
    tabs = tabs_root.locator(".lm-TabBar-tab")
    expect(tabs).to_have_count(4)
    tools = []
    for i, css in enumerate(
        (".pk-image-explorer", ".pk-profile-comparer", ".pk-layer-builder", ".pk-attach-simulator")
    ):
        tabs.nth(i).click()
        tool = tabs_root.locator(css).first
        expect(tool).to_be_visible()
        tools.append(tool)
    tabs.nth(0).click()
    return tools
