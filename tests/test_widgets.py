"""The widgets without a browser: build, set ``.value``, assert on state and HTML."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from portablekit.portabled.attach import plan_start, plan_stop
from portablekit.samples import SAMPLES, install_samples
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd
from portablekit.widgets import (
    AttachSimulator,
    Dashboard,
    ImageExplorer,
    LayerBuilder,
    ProfileComparer,
)


@pytest.fixture
def full_root(make_root: Any) -> SandboxRoot:
    root: SandboxRoot = make_root(samples=False)
    install_samples(root, sorted(SAMPLES))
    return root


def text(fragment: str) -> str:
    """The visible text of an HTML fragment (tags dropped, entities read, whitespace squeezed)."""
    body = re.sub(r"<style.*?</style>", "", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_image_explorer(full_root: SandboxRoot) -> None:
    ex = ImageExplorer(full_root, image="minimal")
    assert repr(ex) == "ImageExplorer(image='minimal')"
    assert ex.error == ""
    assert re.search(
        r"minimalist\.service .* ✗ name does not match the prefixes", text(ex.units.value)
    )
    assert "Minimal Portable (Debian 12)" in text(ex.release.value)
    before = ex.units.value

    ex.image.value = "webapp_2.1"
    assert ex.units.value != before
    assert "webapp.socket" in text(ex.units.value)
    assert ex.dissection is not None and ex.dissection.matches == ("webapp",)

    ex.prefixes.value = "webapp-admin"
    assert ex.dissection is not None
    assert [u.name for u in ex.dissection.units] == ["webapp-admin.service"]

    ex.prefixes.value = ""
    ex.image.value = "broken-no-units"
    assert ex.last_verdict is not None and not ex.last_verdict.ok
    assert "Couldn't find any matching unit files" in text(ex.verdict.value)
    # the refusal does not hide why: the skipped entry and its reason are still shown
    assert "something-else.service" in text(ex.units.value)
    shown = ex.status.value + ex.verdict.value + ex.units.value + ex.summary.value
    assert str(full_root.path) not in shown

    ex.image.value = "broken-no-os-release"
    assert "lacks os-release data" in text(ex.verdict.value)
    assert "no os-release" in ex.release.value
    ex.close()


def test_image_explorer_shows_findings(full_root: SandboxRoot) -> None:
    def checker(host: Any, image: str, **_options: Any) -> list[dict[str, str]]:
        return [{"severity": "warning", "code": "demo", "image": image, "message": f"{image} x"}]

    ex = ImageExplorer(full_root, image="minimal", checker=checker)
    shown = text(ex.findings.value)
    assert "demo" in shown and "minimal x" in shown
    assert "image" not in shown.split()  # one image is shown: no column repeating its name
    ex.image.value = "webapp_2.1"
    assert "webapp_2.1 x" in text(ex.findings.value)
    ex.close()


def test_image_explorer_runs_the_real_checks(full_root: SandboxRoot) -> None:
    ex = ImageExplorer(full_root, image="minimal")
    shown = text(ex.findings.value)
    assert "unit-type" in shown and "minimal.mount" in shown
    ex.close()


def test_profile_comparer() -> None:
    pc = ProfileComparer(profiles=("default", "strict"), systemd=Systemd(257))
    assert repr(pc) == "ProfileComparer(profiles=('default', 'strict'), version=257)"
    assert "PrivateNetwork" in text(pc.matrix.value)
    before = pc.matrix.value
    pc.only_differences.value = True
    assert pc.matrix.value != before
    assert "MountAPIVFS" not in text(pc.matrix.value)  # same in both
    pc.systemd.value = Systemd(252)
    assert "BindReadOnlyPaths" in text(pc.matrix.value)
    pc.profiles.value = ("strict",)
    assert pc.matrix.value == "" and "two or more" in pc.status.value
    pc.profiles.value = ("default", "strict", "trusted")
    assert re.search(r"strict \d\.\d \w+ trusted \d\.\d \w+", text(pc.scores.value))
    assert "PrivateNetwork=" in text(pc.checks.value)
    pc.close()


def test_profile_comparer_on_a_root_sees_custom_profiles(full_root: SandboxRoot) -> None:
    full_root.write_file(
        "/etc/systemd/portable/profile/mine/service.conf", "[Service]\nPrivateTmp=yes\n"
    )
    pc = ProfileComparer(full_root, profiles=("mine", "strict"))
    assert "mine" in pc.profiles.options and pc.systemd.disabled
    assert "PrivateTmp" in text(pc.matrix.value)
    pc.close()


def test_layer_builder(full_root: SandboxRoot) -> None:
    lb = LayerBuilder(full_root, base="webapp_2.1")
    assert "extension" not in lb.stack.value.split("base")[0]
    assert "webapp-tls" in lb.extensions.options
    assert "minimal" not in lb.extensions.options
    lb.extensions.value = ["webapp-tls", "debug-tools"]
    assert lb.error == ""
    assert "webapp.service service 0 webapp_2.1 webapp-tls" in text(lb.units.value)
    assert "webapp-debug.service" in text(lb.units.value)
    assert "<svg" in lb.stack.value and "REFUSED" not in lb.stack.value

    lb.extensions.value = ["webapp-tls", "webapp-legacy"]
    assert "REFUSED" in lb.stack.value
    assert "does not match the root's" in text(lb.verdict.value)
    assert "version VERSION_ID 12 11" in text(lb.compat.value)

    lb.extensions.value = ["broken-ext-scope"]
    assert "scope SYSEXT_SCOPE portable system" in text(lb.compat.value)

    lb.extensions.value = ["broken-ext-misnamed"]
    # portabled refuses an extension without extension-release data; the stack is still
    # drawn, the extension it cannot read dashed red
    assert lb.last_verdict is not None and not lb.last_verdict.ok
    assert "REFUSED" in lb.stack.value and "broken-ext-misnamed" in lb.stack.value
    lb.close()


def test_attach_simulator(full_root: SandboxRoot) -> None:
    sim = AttachSimulator(full_root, image="minimal", profile="strict")
    assert "detached" in sim.state.value
    assert "10-profile.conf" in text(sim.plan.value)
    assert "nothing attached" in sim.tree.value
    plan_before = sim.plan.value
    sim.copy.value = "copy"
    assert sim.plan.value != plan_before  # the profile is copied now, not linked
    sim.copy.value = "auto"

    sim.attach_button.click()
    assert "attached" in sim.state.value and sim.error == ""
    assert "/etc/systemd/system.attached/minimal.service" in text(sim.tree.value)
    assert "minimal.socket" in text(sim.states.value)
    assert "exists on the host already" in sim.verdict.value  # attaching again would fail
    assert str(full_root.path) not in sim.tree.value + sim.status.value

    full_root.apply(plan_start("minimal", ["minimal.service"]))
    sim.detach_button.click()
    assert "is active, can't detach" in sim.error
    full_root.apply(plan_stop("minimal", ["minimal.service"]))
    sim.detach_button.click()
    assert sim.error == "" and "detached" in sim.state.value
    # detach leaves the (empty) /etc/portables directory, as portabled does
    assert text(sim.tree.value).endswith("/etc/portables dir 0755")

    sim.runtime.value = True
    sim.attach()
    assert "attached-runtime" in sim.state.value
    assert "/run/systemd/system.attached" in text(sim.tree.value)
    sim.detach()
    sim.image.value = "webapp_2.1"
    sim.extensions.value = ["webapp-legacy"]
    assert "does not match the root" in sim.verdict.value
    sim.close()


def test_attach_simulator_detaches_only_its_image(full_root: SandboxRoot) -> None:
    # systemd 257 matches every attached image for a bare name (systemd#39058): the simulator
    # asks by path, so detaching one image leaves the other attached
    sim = AttachSimulator(full_root, image="minimal")
    sim.attach()
    sim.image.value = "webapp_2.1"
    sim.attach()
    assert re.search(r"is-attached /[a-z/]+/webapp_2.1</code>: <b>attached<", sim.state.value)
    sim.image.value = "minimal"
    sim.detach()
    assert sim.error == ""
    units = text(sim.states.value)
    assert "webapp.service" in units and "minimal.service" not in units
    sim.close()


def test_dashboard(full_root: SandboxRoot) -> None:
    dash = Dashboard(full_root)
    assert [type(c).__name__ for c in dash.tabs.children] == [
        "ImageExplorer",
        "ProfileComparer",
        "LayerBuilder",
        "AttachSimulator",
    ]
    dash.simulator.image.value = "minimal"
    dash.simulator.attach()
    dash.tabs.selected_index = 0
    dash.explorer.image.value = "minimal"
    assert repr(dash) == "Dashboard(tab='Images')"
    dash.close()
