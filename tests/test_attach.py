"""The planners: attach, detach, reattach, and what --enable/--now plan around them."""

from __future__ import annotations

import io
import json
import os
from pathlib import PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portablekit.cli.portablectl import run
from portablekit.oracle.dump import Snapshot, render_changes
from portablekit.portabled.attach import (
    plan_attach,
    plan_detach,
    plan_disable,
    plan_enable,
    plan_start,
    plan_stop,
    units_in,
)
from portablekit.portabled.host import ACTIVE_UNITS
from portablekit.portabled.plan import ChangeType, CopyMode, OpKind
from portablekit.portabled.state import ImageState, image_state
from portablekit.samples import install_samples, sample_source
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd


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
    root.apply(plan_start("minimal", ["minimal.service"]))
    assert image_state(root.host, "minimal") is ImageState.RUNNING
    d = plan_detach(root.host, "minimal")
    assert d.error is not None and d.error.message == (
        "Unit file 'minimal.service' is active, can't detach."
    )
    assert plan_detach(root.host, "minimal", force=True).ok


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
    root = SandboxRoot.init(tmp_path_factory.mktemp("prop") / "root", Systemd(version))
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


_LINK_LINES = [
    "Created symlink /etc/systemd/system/multi-user.target.wants/minimal-worker.service"
    " \u2192 /etc/systemd/system.attached/minimal-worker.service.",
    "Created symlink /etc/systemd/system/multi-user.target.wants/minimal.service"
    " \u2192 /etc/systemd/system.attached/minimal.service.",
    "Created symlink /etc/systemd/system/sockets.target.wants/minimal.socket"
    " \u2192 /etc/systemd/system.attached/minimal.socket.",
]
_UNITS = ["minimal-worker.service", "minimal.service", "minimal.socket"]


def _ctl(root: SandboxRoot, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = run(list(args), root=root, host=root.host, stdout=out, stderr=err, prog="portablekit")
    return rc, out.getvalue(), err.getvalue()


def test_enable_and_start_are_plans_of_their_own(root: SandboxRoot) -> None:
    before = Snapshot.take(root.path).entries
    attach = plan_attach(root.host, "minimal", matches=["minimal"])
    # planned against the host as the attach leaves it: the attached directory is there
    enable = plan_enable(root.host.overlay(attach.pending()), attach)
    a = PurePosixPath("/etc/systemd/system")
    # Debian's host has multi-user.target.wants already
    assert [(o.kind, str(o.path.relative_to(a))) for o in enable.ops] == [
        (OpKind.SYMLINK, "multi-user.target.wants/minimal-worker.service"),
        (OpKind.SYMLINK, "multi-user.target.wants/minimal.service"),
        (OpKind.MKDIR, "sockets.target.wants"),
        (OpKind.SYMLINK, "sockets.target.wants/minimal.socket"),
    ]
    assert [str(c) for c in enable.printed_changes()] == _LINK_LINES
    start = plan_start(attach.image, units_in(attach.changes))
    assert [(o.kind, o.path, o.target) for o in start.ops] == [
        (OpKind.START, ACTIVE_UNITS, u) for u in _UNITS
    ]
    assert Snapshot.take(root.path).entries == before  # planning wrote nothing
    for plan in (attach, enable, start):
        root.apply(plan)
    assert image_state(root.host, "minimal") is ImageState.RUNNING
    # once enabled, enabling again plans nothing; stopping and disabling undo it all
    assert not plan_enable(root.host, attach).ops
    root.apply(plan_stop(attach.image, _UNITS))
    disable = plan_disable(root.host, attach.image, _UNITS)
    assert [str(c) for c in disable.printed_changes()] == [
        f"Removed {line.split()[2]}." for line in _LINK_LINES
    ]
    assert [o.kind for o in disable.ops].count(OpKind.RMDIR) == 1  # sockets.target.wants
    root.apply(disable)
    assert image_state(root.host, "minimal") is ImageState.ATTACHED
    assert root.machine_path(ACTIVE_UNITS).read_text() == ""


def test_required_by_links_go_to_requires(root: SandboxRoot) -> None:
    src = sample_source("minimal")
    src.add(
        "usr/lib/systemd/system/minimal-req.service",
        "[Service]\nExecStart=/usr/bin/minimald\n[Install]\nWantedBy=a.target\nWantedBy=\n"
        "RequiredBy=b.target\nWantedBy=c.target\n",
    )
    root.materialize(src, "/var/lib/portables/req")
    attach = plan_attach(root.host, "req", matches=["minimal-req"])
    root.apply(attach)
    links = [str(o.path) for o in plan_enable(root.host, attach).ops if o.kind is OpKind.SYMLINK]
    assert links == [
        "/etc/systemd/system/b.target.requires/minimal-req.service",
        "/etc/systemd/system/c.target.wants/minimal-req.service",
    ]


def test_dry_run_shows_enable_and_now(root: SandboxRoot) -> None:
    before = Snapshot.take(root.path).entries
    rc, out, _ = _ctl(root, "--dry-run", "attach", "--enable", "--now", "minimal")
    assert rc == 0
    rows = [line.split()[:3] for line in out.splitlines()[2:-1]]
    wants = "/etc/systemd/system/multi-user.target.wants"
    sockets = "/etc/systemd/system/sockets.target.wants"
    assert ["mkdir", sockets, "mode=0755"] in rows
    assert [
        "symlink",
        f"{wants}/minimal.service",
        "target=/etc/systemd/system.attached/minimal.service",
    ] in rows
    assert rows[-3:] == [["start", str(ACTIVE_UNITS), f"target={u}"] for u in _UNITS]
    assert out.splitlines()[-1] == "21 operations, 16 changes reported."
    rc, out, _ = _ctl(root, "--dry-run", "--json", "attach", "--enable", "--now", "minimal")
    plan = json.loads(out)
    assert plan["ops"][-3:] == [
        {"op": "start", "path": str(ACTIVE_UNITS), "target": u} for u in _UNITS
    ]
    assert [c["path"] for c in plan["changes"][-3:]] == [line.split()[2] for line in _LINK_LINES]
    assert Snapshot.take(root.path).entries == before

    assert _ctl(root, "attach", "--enable", "--now", "minimal")[0] == 0
    before = Snapshot.take(root.path).entries
    rc, out, _ = _ctl(root, "--dry-run", "--json", "detach", "--enable", "--now", "minimal")
    ops = [(o["op"], o["path"]) for o in json.loads(out)["ops"]]
    assert ops[:3] == [("stop", str(ACTIVE_UNITS))] * 3
    assert ("rmdir", sockets) in ops and ("rmdir", wants) not in ops  # not empty then
    # the detach half sees the links gone: the attached directory goes too
    assert ops[-1] == ("rmdir", "/etc/systemd/system.attached")
    assert Snapshot.take(root.path).entries == before


def test_enable_now_print_and_write_what_they_did(root: SandboxRoot) -> None:
    rc, _, err = _ctl(root, "attach", "--enable", "--now", "minimal")
    attach_lines = [str(c) for c in plan_attach(root.host.overlay({}), "minimal").changes]
    assert rc == 0 and not attach_lines  # attached now: planning again is refused
    lines = err.splitlines()
    assert lines[0] == "(Matching unit files with prefix 'minimal'.)"
    assert (
        lines[-3:] == _LINK_LINES
        and lines[-4] == "Created symlink /etc/portables/minimal \u2192 /var/lib/portables/minimal."
    )
    assert root.machine_path(ACTIVE_UNITS).read_text() == "".join(f"{u} active\n" for u in _UNITS)
    link = root.machine_path("/etc/systemd/system/sockets.target.wants/minimal.socket")
    assert os.readlink(link) == "/etc/systemd/system.attached/minimal.socket"
    rc, _, err = _ctl(root, "--quiet", "detach", "--enable", "--now", "minimal")
    assert (rc, err) == (0, "")
    assert root.machine_path(ACTIVE_UNITS).read_text() == ""
    assert not root.machine_path("/etc/systemd/system.attached").exists()
    _ctl(root, "attach", "--enable", "minimal")
    rc, _, err = _ctl(root, "detach", "--enable", "minimal")
    assert err.splitlines()[1:4] == [f"Removed {line.split()[2]}." for line in _LINK_LINES]
