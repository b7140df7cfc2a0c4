from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portablekit.errors import SandboxError
from portablekit.oracle.dump import Snapshot, render_changes
from portablekit.portabled.plan import ChangeType, CopyMode, OpKind, plan_attach, plan_detach
from portablekit.portabled.state import ImageState, image_state
from portablekit.samples import install_samples
from portablekit.sandbox import SandboxRoot


def test_plan_is_data_and_apply_writes_it(root: SandboxRoot) -> None:
    before = Snapshot.take(root.path)
    plan = plan_attach(root.host, "minimal", matches=["minimal"], profile="strict")
    assert plan.ok and plan.units == ("minimal-worker.service", "minimal.service", "minimal.socket")
    assert Snapshot.take(root.path).entries == before.entries  # planning wrote nothing
    assert str(plan.changes[0]) == "Created directory /etc/systemd/system.attached."
    assert plan.changes[-1].type is ChangeType.SYMLINK
    root.apply(plan)
    assert image_state(root.host, "minimal") is ImageState.ATTACHED
    link = root.machine_path("/etc/systemd/system.attached/minimal.service.d/10-profile.conf")
    assert os.readlink(link) == "/usr/lib/systemd/portable/profile/strict/service.conf"


def test_refused_plan_has_no_operations(root: SandboxRoot) -> None:
    root.apply(plan_attach(root.host, "minimal", matches=["minimal"]))
    again = plan_attach(root.host, "minimal", matches=["minimal"])
    assert not again.ok and not again.ops
    assert again.error is not None and again.error.message == (
        "Unit file 'minimal-worker.service' exists on the host already, refusing."
    )


def test_copy_modes(root: SandboxRoot) -> None:
    plan = plan_attach(root.host, "minimal", matches=["minimal"], copy=CopyMode.SYMLINK)
    unit_ops = [o for o in plan.ops if o.path.name == "minimal.service"]
    assert unit_ops[0].kind is OpKind.SYMLINK
    assert unit_ops[0].target == "/var/lib/portables/minimal/usr/lib/systemd/system/minimal.service"
    mixed = plan_attach(root.host, "minimal", matches=["minimal"], copy=CopyMode.MIXED)
    assert mixed.ops[-1].kind is OpKind.COPY_TREE
    root.apply(mixed)
    assert root.machine_path("/etc/portables/minimal/usr/lib/os-release").is_file()


def test_active_units_refuse_and_running_state(root: SandboxRoot) -> None:
    root.set_active_units({"minimal.service": "activating"})
    p = plan_attach(root.host, "minimal", matches=["minimal"])
    assert p.error is not None and p.error.message == (
        "Unit file 'minimal.service' is active already, refusing."
    )
    root.set_active_units({})
    root.apply(plan_attach(root.host, "minimal", matches=["minimal"]))
    root.start_units(["minimal.service"])
    assert image_state(root.host, "minimal") is ImageState.RUNNING
    d = plan_detach(root.host, "minimal")
    assert d.error is not None and d.error.message == (
        "Unit file 'minimal.service' is active, can't detach."
    )
    assert plan_detach(root.host, "minimal", force=True).ok


def test_sandbox_refuses_to_write_outside_or_into_foreign_roots(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    foreign = SandboxRoot(plain)
    with pytest.raises(SandboxError, match="not a portablekit sandbox"):
        foreign.write_file("/x", "y")
    root = SandboxRoot.init(tmp_path / "root")
    outside = tmp_path / "outside"
    outside.mkdir()
    # a link to the machine's directory is a link to a path inside the simulated host
    os.symlink(str(outside), root.path / "escape")
    with pytest.raises(SandboxError, match="missing directory"):
        root.write_file("/escape/file", "never written")
    assert not list(outside.iterdir())
    # links that stay inside the root are followed there
    os.symlink("/var/lib", root.path / "inside")
    root.write_file("/inside/new/file", "ok")
    assert root.machine_path("/var/lib/new/file").read_text() == "ok"
    with pytest.raises(SandboxError):
        root.machine_path("/")
    with pytest.raises(SandboxError, match="not empty"):
        SandboxRoot.init(tmp_path / "root")


def test_missing_root_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="does not exist"):
        SandboxRoot(tmp_path / "missing")


def test_writes_are_atomic(root: SandboxRoot) -> None:
    root.write_file("/etc/x.conf", "one")
    root.write_file("/etc/x.conf", "two")
    assert root.machine_path("/etc/x.conf").read_text() == "two"
    assert not [p for p in root.machine_path("/etc").iterdir() if p.name.startswith(".#")]


_ALLOWED_LEFTOVERS = {"/etc/portables", "/run/portables"}


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    version=st.sampled_from([252, 257, 262]),
    image=st.sampled_from(["minimal", "webapp_2.1"]),
    profile=st.sampled_from(["default", "strict", "trusted", "nonetwork", "unknown"]),
    copy=st.sampled_from(["auto", "copy", "symlink", "mixed"]),
    runtime=st.booleans(),
    extension=st.sampled_from([None, "debug-tools", "webapp-tls"]),
)
def test_attach_then_detach_leaves_the_root_as_it_was(
    tmp_path_factory: pytest.TempPathFactory,
    version: int,
    image: str,
    profile: str,
    copy: str,
    runtime: bool,
    extension: str | None,
) -> None:
    if copy == "mixed" and version == 252:
        copy = "copy"
    if image == "minimal" and extension == "webapp-tls":
        extension = None
    root = SandboxRoot.init(tmp_path_factory.mktemp("prop") / "root", version)
    install_samples(root)
    before = Snapshot.take(root.path)
    exts = [extension] if extension else []
    prefix = image.split("_")[0]
    matches = [prefix] + ([f"{prefix}-tls"] if extension == "webapp-tls" else [])
    if extension == "debug-tools" and image == "minimal":
        matches.append("minimal-debug")  # webapp's PORTABLE_PREFIXES would refuse webapp-debug
    if image == "minimal":
        matches = [m for m in matches if m != "minimal-tls"]
    attach = plan_attach(
        root.host,
        image,
        matches=matches,
        extensions=exts,
        profile=profile,
        copy=copy,
        runtime=runtime,
    )
    assert attach.ok, attach.error
    root.apply(attach)
    detach = plan_detach(
        root.host,
        str(attach.image),
        extensions=[str(lay.image.path) for lay in attach.dissection.extensions]
        if attach.dissection
        else [],
        runtime=runtime,
    )
    assert detach.ok, detach.error
    root.apply(detach)
    after = Snapshot.take(root.path)
    text = render_changes(before, after)
    leftovers = {line.split()[1] for line in text.splitlines() if line != "(no entries)"}
    assert leftovers <= _ALLOWED_LEFTOVERS, text
