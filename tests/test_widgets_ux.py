"""What a learner sees in the widgets: every promised view on screen, sensible first choices,
one verdict everywhere, refusals explained, the whole attach lifecycle, lists that follow the
root. One test (or more) per finding of the UX review (B2-B12, B16)."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from portablekit.portabled.attach import plan_start
from portablekit.portabled.state import ImageState
from portablekit.samples import install_samples, sample_source
from portablekit.sandbox import SandboxRoot
from portablekit.widgets import (
    AttachSimulator,
    Dashboard,
    ImageExplorer,
    LayerBuilder,
    ProfileComparer,
)
from portablekit.widgets._base import Tool, walk
from portablekit.widgets._picker import ExtensionPicker
from portablekit.widgets.profile_comparer import OWN_UNIT

#: the images notebook 05 and the classroom app install
LAB = [
    *("minimal", "webapp_2.1", "webapp-tls", "debug-tools", "webapp-legacy"),
    *("broken-no-units", "broken-no-os-release", "broken-ext-scope", "broken-ext-misnamed"),
]
BASES = {"minimal", "webapp_2.1", "broken-no-units", "broken-no-os-release"}


@pytest.fixture
def lab(make_root: Any) -> SandboxRoot:
    root: SandboxRoot = make_root(samples=False)
    install_samples(root, LAB)
    return root


def text(fragment: str) -> str:
    body = re.sub(r"<style.*?</style>", "", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def tools(root: SandboxRoot) -> list[Tool]:
    return [
        ImageExplorer(root),
        ProfileComparer(root),
        ProfileComparer(),
        LayerBuilder(root),
        AttachSimulator(root),
        Dashboard(root),
    ]


# -- B2 and the views every tool promises --------------------------------------------------------


def test_every_promised_view_is_in_the_layout(lab: SandboxRoot) -> None:
    for tool in tools(lab):
        assert tool.missing_views() == [], type(tool).__name__
        # the class docstring names each view it promises
        for name in tool.VIEWS:
            assert f":attr:`{name}`" in (type(tool).__doc__ or ""), (type(tool).__name__, name)


def test_a_view_taken_out_of_the_layout_is_caught(lab: SandboxRoot) -> None:
    # what the review did to ProfileComparer: the check must notice, for every view
    for tool in tools(lab)[:5]:
        for name in tool.VIEWS:
            view = getattr(tool, name)
            holder = next(w for w in walk(tool) if view in getattr(w, "children", ()))
            kept = holder.children
            holder.children = tuple(c for c in kept if c is not view)
            assert tool.missing_views() == [name], (type(tool).__name__, name)
            holder.children = kept


def test_comparer_shows_the_checks_that_differ() -> None:
    pc = ProfileComparer(profiles=("default", "strict"))
    assert pc.checks in list(walk(pc))
    assert "PrivateNetwork=" in text(pc.checks.value)


# -- B3: first choices --------------------------------------------------------------------------


def test_dashboard_opens_on_the_first_attachable_base(lab: SandboxRoot) -> None:
    dash = Dashboard(lab)
    assert dash.explorer.image.value == "minimal"
    assert dash.builder.base.value == "minimal"
    assert dash.simulator.image.value == "minimal"
    assert dash.explorer.error == "" and dash.builder.error == ""
    assert dash.explorer.last_verdict is not None and dash.explorer.last_verdict.ok
    # bases and extensions each in their own lists
    assert set(dash.builder.base.options) == set(dash.simulator.image.options) == BASES
    exts = set(LAB) - BASES
    assert set(dash.builder.extensions.options) == set(dash.simulator.extensions.options) == exts
    dash.simulator.attach_button.click()  # the first click works
    assert dash.simulator.error == "" and dash.simulator.attached_state.is_attached


# -- B4, B5: the explorer judges as attach does ------------------------------------------------


def test_explorer_shows_an_extension_as_an_extension(lab: SandboxRoot) -> None:
    ex = ImageExplorer(lab, image="debug-tools")
    assert ex.error == ""
    assert "debug-tools is an extension (sysext)" in ex.message
    assert "--extension debug-tools" in ex.message
    shown = text(ex.findings.value)
    assert "os-release-missing" not in shown and "mount-point-missing" not in shown
    assert "attach minimal --extension debug-tools would succeed" in text(ex.verdict.value)
    assert "minimal-debug.service" in text(ex.summary.value)


def test_explorer_uses_attach_rules_for_typed_prefixes(lab: SandboxRoot) -> None:
    ex = ImageExplorer(lab, image="webapp_2.1")
    ex.prefixes.value = "webapp-cleanup"
    verdict = text(ex.verdict.value)
    assert "attach would fail" in verdict and "Acceptable prefix matches are" in verdict
    assert "PORTABLE_PREFIXES= allows webapp, webapp-admin" in verdict
    assert "attach refuses" in text(ex.summary.value) and "attached" not in text(ex.summary.value)
    assert "prefix-not-allowed" in text(ex.findings.value)


def test_explorer_summary_never_says_attached_under_a_refusal(lab: SandboxRoot) -> None:
    ex = ImageExplorer(lab, image="broken-no-os-release")
    assert "attach refuses" in text(ex.summary.value)
    assert "lacks os-release data" in text(ex.verdict.value)


# -- B6: the extension picker ------------------------------------------------------------------


def test_extension_picker_is_ordered_and_validated() -> None:
    picker = ExtensionPicker(["a", "b", "c"])
    seen: list[tuple[str, ...]] = []
    picker.observe(lambda change: seen.append(change["new"]), names="value")
    picker.name.value = "a"  # typed in the box
    assert picker.add_button.tooltip == "stack a on top"
    picker.add_button.click()
    picker.available.value = "b"  # picked in the list: it goes into the box
    assert picker.name.value == "b"
    picker.add_button.click()
    assert picker.value == ("a", "b")
    assert picker.chosen.options == ("b", "a")  # top layer first, as the picture draws it
    assert "b" not in picker.available.options
    picker.chosen.value = "a"
    assert picker.up_button.tooltip == "move a one layer higher"
    picker.up_button.click()
    assert picker.value == ("b", "a")
    picker.remove_button.click()
    assert picker.value == ("b",) and "a" in picker.available.options
    picker.name.value = "b"
    picker.down_button.click()  # already the lowest: nothing moves
    assert picker.value == ("b",)
    picker.name.value = "no-such"  # not an extension: the buttons do nothing
    picker.add_button.click()
    assert picker.value == ("b",)
    assert seen == [("a",), ("a", "b"), ("b", "a"), ("b",)]
    with pytest.raises(Exception, match="not an extension of this root: x"):
        picker.value = ("x",)
    picker.options = ("a",)  # an extension that is gone leaves the stack
    assert picker.value == () and picker.remove_button.disabled


def test_tools_use_the_picker_not_a_tag_box(lab: SandboxRoot) -> None:
    import ipywidgets as widgets

    for tool in (LayerBuilder(lab), AttachSimulator(lab)):
        assert isinstance(tool.extensions, ExtensionPicker)
        assert not [w for w in walk(tool) if isinstance(w, widgets.TagsInput)]


# -- B7: lists follow the root -----------------------------------------------------------------


def test_refresh_sees_images_and_profiles_added_later(lab: SandboxRoot) -> None:
    dash = Dashboard(lab)
    sim = AttachSimulator(lab)
    src = sample_source("minimal")
    src.add("usr/lib/systemd/system/myapp.service", "[Service]\nExecStart=/usr/bin/myapp\n")
    lab.materialize(src, "/var/lib/portables/myapp")
    lab.write_file("/etc/systemd/portable/profile/mine/service.conf", "[Service]\nPrivateTmp=yes\n")
    sim.refresh_button.click()
    assert "myapp" in sim.image.options and "mine" in sim.profile.options
    sim.image.value = "myapp"  # no TraitError any more
    # the dashboard's tab switch looks at the root again
    dash.tabs.selected_index = 1
    assert "mine" in dash.comparer.profiles.options
    assert "myapp: myapp.service" in dash.comparer.unit.options
    dash.tabs.selected_index = 2
    assert "myapp" in dash.builder.base.options
    dash.tabs.selected_index = 3
    assert "myapp" in dash.simulator.image.options
    dash.tabs.selected_index = 0
    assert "myapp" in dash.explorer.image.options


# -- B8: readable tables ----------------------------------------------------------------------


def test_widget_tables_scroll_instead_of_clipping(lab: SandboxRoot) -> None:
    sim = AttachSimulator(lab, image="webapp_2.1")
    ex = ImageExplorer(lab, image="broken-no-os-release")
    for view in (sim.plan, sim.changes, ex.units, ex.findings):
        assert view.value.startswith('<div class="pk-scroll"'), view.value[:60]
        assert "overflow-x:auto" in view.value and "line-height:1.3" in view.value


# -- B9, B10: the whole lifecycle, explained --------------------------------------------------


def test_simulator_covers_the_lifecycle(lab: SandboxRoot) -> None:
    sim = AttachSimulator(lab, image="minimal")
    sim.enable.value = sim.now.value = True
    assert "sockets.target.wants/minimal.socket" in text(sim.plan.value)  # the dry run shows it
    # each button's command line, as a learner would type it
    assert sim.command_lines() == {
        "attach": "portablectl attach --enable --now --profile=default minimal",
        "reattach": (
            "portablectl reattach --enable --now --profile=default /var/lib/portables/minimal"
        ),
        "detach": "portablectl detach --enable --now /var/lib/portables/minimal",
    }
    assert "Detach runs portablectl detach --enable --now" in text(sim.command.value)
    sim.attach_button.click()
    assert sim.error == "" and "minimal attached" in sim.message
    assert "started minimal-worker.service, minimal.service, minimal.socket" in sim.message
    assert sim.attached_state.value == "running"
    # after an attach the dry run says what a *second* attach would do, and points to reattach
    assert "a second Attach" in text(sim.plan_title.value)
    assert "Reattach replaces the attached units" in text(sim.verdict.value)
    sim.attach_button.click()
    assert "Attach failed" in sim.error and "Reattach replaces" in sim.error
    sim.reattach_button.click()
    assert sim.error == "" and "minimal reattached" in sim.message
    sim.now.value = sim.enable.value = False
    sim.detach_button.click()
    assert "is active, can't detach" in sim.error and "tick --now" in sim.error
    sim.now.value = sim.enable.value = True
    sim.detach_button.click()
    assert sim.error == "" and "stopped" in sim.message and "disabled" in sim.message
    assert sim.attached_state.value == "detached"
    sim.reattach_button.click()
    assert "Reattach failed" in sim.error and "attach it first" in sim.error


def test_runtime_toggled_while_attached_is_explained(lab: SandboxRoot) -> None:
    sim = AttachSimulator(lab, image="webapp_2.1")
    sim.attach()
    sim.runtime.value = True
    assert "untick --runtime" in text(sim.state.value)
    sim.detach_button.click()
    assert "No unit files associated" in sim.error  # portabled's own message ...
    assert "attached persistently" in sim.error and "untick --runtime" in sim.error  # ... explained
    assert sim.attached_state.value == "attached"
    # the is-attached path stays the image's own, attached or not
    assert "is-attached /var/lib/portables/webapp_2.1" in text(sim.state.value)


# -- B11: one verdict ------------------------------------------------------------------------


def test_builder_and_simulator_give_one_verdict(lab: SandboxRoot) -> None:
    lb = LayerBuilder(lab, base="minimal", extensions=("webapp-tls",))
    sim = AttachSimulator(lab, image="minimal")
    sim.extensions.value = ["webapp-tls"]
    assert lb.last_verdict is not None and sim.last_verdict is not None
    assert not lb.last_verdict.ok and not sim.last_verdict.ok
    assert lb.last_verdict.message == sim.last_verdict.message
    assert "Acceptable prefix matches are: webapp-tls" in text(lb.verdict.value)


def test_a_misnamed_extension_gets_the_checker_explanation(lab: SandboxRoot) -> None:
    lb = LayerBuilder(lab, base="webapp_2.1", extensions=("broken-ext-misnamed",))
    shown = text(lb.verdict.value)
    assert "portabled says: No such file or directory" in shown  # the bare errno, as portabled
    assert "it has /usr/lib/extension-release.d/extension-release.something" in shown
    assert "Fix: name the file" in shown
    assert "REFUSED" in lb.stack.value  # and the picture is still drawn


# -- B12: score any unit -----------------------------------------------------------------------


def test_comparer_scores_units_of_the_root_and_typed_units(lab: SandboxRoot) -> None:
    src = sample_source("minimal")
    src.add(
        "usr/lib/systemd/system/minimal-net.service",
        "[Service]\nExecStart=/usr/bin/x\nPrivateNetwork=yes\n",
    )
    lab.materialize(src, "/var/lib/portables/minimal-net")
    pc = ProfileComparer(lab, profiles=("default", "strict"))
    assert "minimal-net: minimal-net.service" in pc.unit.options
    assert not [o for o in pc.unit.options if "minimalist" in o or "other.service" in o]
    pc.unit.value = "minimal-net: minimal-net.service"
    assert "minimal-net.service" in text(pc.scores.value)
    pc.unit.value = OWN_UNIT
    assert pc.own.layout.display == ""
    pc.unit_name.value = "mine.service"
    pc.unit_text.value = "[Service]\nExecStart=/usr/bin/mine\nUser=root\n"
    before = text(pc.scores.value)
    assert "mine.service" in before
    pc.unit_text.value += "PrivateNetwork=yes\nProtectSystem=strict\n"
    assert text(pc.scores.value) != before
    typed = ProfileComparer(unit_text="[Service]\nExecStart=/x\n", unit_name="t.service")
    assert typed.unit.value == OWN_UNIT and "t.service" in text(typed.scores.value)


# -- B16: a static twin for pages without a kernel ----------------------------------------------


def test_a_displayed_tool_carries_a_static_twin(lab: SandboxRoot) -> None:
    sim = AttachSimulator(lab, image="minimal")
    bundle = sim._repr_mimebundle_()
    assert bundle is not None and "application/vnd.jupyter.widget-view+json" in bundle
    static = bundle["text/html"]
    assert "static picture of the widget" in static
    assert sim.plan.value in static and sim.tree.value in static  # the views themselves
    assert "Attach" in static and "☐ --runtime" in static
    assert str(lab.path) not in static
    dash = Dashboard(lab)
    static = dash._repr_mimebundle_()["text/html"]
    assert all(f"<h4>{t}</h4>" in static for t in Dashboard.TITLES)


def test_simulator_state_is_a_value_for_prints(lab: SandboxRoot) -> None:
    # notebook 05 prints the state; the HTML view is for the screen
    sim = AttachSimulator(lab, image="minimal")
    sim.attach()
    lab.apply(plan_start("minimal", ["minimal.service"]))
    assert sim.attached_state is ImageState.RUNNING and f"{sim.attached_state}" == "running"


# -- B17: make lab as root --------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lab_allows_root_and_takes_extra_arguments() -> None:
    out = subprocess.run(
        ["make", "-n", "lab", "app", "LAB_ARGS=--port=9999", "APP_ARGS=--port=9998"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    lab = next(line for line in out if "jupyter lab" in line)
    assert "--port=9999" in lab
    assert ("--allow-root" in lab) == (os.getuid() == 0)  # JupyterLab refuses root without it
    app = next(line for line in out if "voila" in line)
    assert "notebooks/classroom.ipynb" in app and "--port=9998" in app
