"""Cost linear in the number of units: counted, not timed.

Each verb runs on a root with ``n`` and with ``4n`` attached units while every function call is
counted (``sys.setprofile``, C functions included: each read, listing and string split). Linear
work grows four times, quadratic work sixteen times; a ratio above 5 fails. The times for
thousands of units are in ``benchmarks/bench_scale.py``.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from types import FrameType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portablekit.portabled.attach import (
    plan_attach,
    plan_detach,
    plan_disable,
    plan_enable,
    plan_reattach,
    plan_start,
    plan_stop,
)
from portablekit.portabled.host import Host
from portablekit.portabled.state import image_states, unit_states
from portablekit.sandbox import SandboxRoot
from portablekit.source import DirectorySource, FileKind
from portablekit.versions import Systemd

N = 25  # and 4N: small enough to count every call, large enough for a square to show
LINEAR = 5.0


def _unit(name: str, i: int) -> str:
    text = f"[Service]\nExecStart=/usr/bin/{name} {i}\n"
    return text + ("\n[Install]\nWantedBy=multi-user.target\n" if i % 2 else "")


def _image(root: SandboxRoot, name: str, units: int) -> None:
    img = root.path / "var" / "lib" / "portables" / name
    units_dir = img / "usr" / "lib" / "systemd" / "system"
    units_dir.mkdir(parents=True)
    (img / "usr" / "lib" / "os-release").write_text(f"ID=debian\nPORTABLE_PREFIXES={name}\n")
    for i in range(units):
        (units_dir / f"{name}-{i:04d}.service").write_text(_unit(name, i))


def _root(tmp_path: Path, version: int, n: int, *, attached: bool = True) -> SandboxRoot:
    """``big`` of ``n`` units (attached), and ``n // 5`` images of five units attached beside."""
    root = SandboxRoot.init(tmp_path / f"root{version}-{n}", Systemd(version))
    for k in range(n // 5):
        _image(root, f"tiny{k:03d}", 5)
        root.apply(plan_attach(root.host, f"tiny{k:03d}", matches=[f"tiny{k:03d}"]))
    _image(root, "big", n)
    if attached:
        plan = plan_attach(root.host, "big", matches=["big"])
        assert plan.ok, plan.error
        root.apply(plan)
    return root


def _calls(fn: Callable[[], object]) -> int:
    """Function calls (Python and C) while ``fn`` runs."""
    count = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


@pytest.fixture(params=[252, 257, 262])
def version(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def _ratio_of(
    tmp_path: Path, version: int, run: Callable[[SandboxRoot], object], **kw: bool
) -> float:
    """Calls of ``run`` on a root of 4N units over calls on a root of N (roots made first)."""
    small_root = _root(tmp_path / "s", version, N, **kw)
    large_root = _root(tmp_path / "l", version, 4 * N, **kw)
    ratio = _calls(lambda: run(large_root)) / _calls(lambda: run(small_root))
    print(f"{run.__name__} on systemd {version}: x{ratio:.2f} for x4 units")
    return ratio


def test_list_and_is_attached_are_linear(tmp_path: Path, version: int) -> None:
    def list_all(root: SandboxRoot) -> None:
        images = [f"/var/lib/portables/tiny{k:03d}" for k in range(N // 5)] + ["big"]
        states = image_states(root.host, [(i,) for i in images])
        assert len(states) == len(images) and all(s.is_attached for s in states)

    assert _ratio_of(tmp_path, version, list_all) < LINEAR


def test_unit_states_read_each_directory_once(tmp_path: Path) -> None:
    # besides the calls: each attached unit costs two reads (its marker, and its unit file for
    # the install logic's [Install] section), and the directories holding 2N entries are listed
    # once, not once per unit
    root = _root(tmp_path, 257, 4 * N)
    counts = {"listdir": 0, "read_bytes": 0}
    fs = root.host.fs
    assert isinstance(fs, DirectorySource)
    listdir_kinds, read_bytes = fs.listdir_kinds, fs.read_bytes

    def count_listdir(path: PurePosixPath) -> dict[str, FileKind]:
        counts["listdir"] += 1
        return listdir_kinds(path)

    def count_read(path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        counts["read_bytes"] += 1
        return read_bytes(path, offset, size)

    fs.listdir_kinds = count_listdir  # type: ignore[method-assign]
    fs.read_bytes = count_read  # type: ignore[method-assign]
    units = unit_states(root.host)
    attached = 4 * N + (4 * N // 5) * 5
    assert len(units) == attached
    assert counts["read_bytes"] <= 2 * attached + 5
    assert counts["listdir"] <= attached + 30  # one drop-in directory each, and a few others


def test_attach_is_linear(tmp_path: Path, version: int) -> None:
    def attach(root: SandboxRoot) -> None:
        plan = plan_attach(root.host, "big", matches=["big"])
        assert plan.ok and len(plan.units) >= N

    assert _ratio_of(tmp_path, version, attach, attached=False) < LINEAR


def test_detach_and_reattach_are_linear(tmp_path: Path, version: int) -> None:
    def detach(root: SandboxRoot) -> None:
        plan = plan_detach(root.host, "big")
        assert plan.ok and len(plan.units) >= N

    def reattach(root: SandboxRoot) -> None:
        plan = plan_reattach(root.host, "/var/lib/portables/big", matches=["big"])
        assert plan.ok and len(plan.units) >= N

    assert _ratio_of(tmp_path / "detach", version, detach) < LINEAR
    assert _ratio_of(tmp_path / "reattach", version, reattach) < LINEAR


def test_enable_and_disable_are_linear(tmp_path: Path) -> None:
    def enable_disable(root: SandboxRoot) -> None:
        host = Host(root.path, root.systemd)
        attached = plan_attach(host, "big", matches=["big"], force=True)
        root.apply(plan_enable(host, attached))
        root.apply(plan_disable(host, "big", attached.units))

    assert _ratio_of(tmp_path, 257, enable_disable) < LINEAR


def test_start_and_stop_are_linear(tmp_path: Path) -> None:
    # --now of thousands of units: the manager's state file is not reread and rewritten per
    # unit (the names need not be attached for that: only the state file is written)
    counts = []
    for n in (100, 800):
        root = SandboxRoot.init(tmp_path / str(n), Systemd(257))
        units = [f"unit-{i:04d}.service" for i in range(n)]

        def start_stop(root: SandboxRoot = root, units: list[str] = units) -> None:
            root.apply(plan_start("all", units))
            root.apply(plan_stop("all", units[::2]))

        counts.append(_calls(start_stop))
        assert len(root.host.active_units()) == n // 2
    assert counts[1] / counts[0] < 8 * 1.25  # eight times the units


def test_pending_changes_find_what_is_below_by_directory() -> None:
    from portablekit.portabled.pending import PendingChanges

    p = PendingChanges()
    a = PurePosixPath("/etc/systemd/system.attached")
    for i in range(3):
        p[a / f"u{i}.service.d" / "20-portable.conf"] = FileKind.FILE
    p[a / "u0.service"] = FileKind.FILE
    assert sorted(map(str, p.children(a))) == ["/etc/systemd/system.attached/u0.service"]
    assert len(p.below(a)) == 4 and p.below(a / "u1.service.d") == [
        a / "u1.service.d" / "20-portable.conf"
    ]
    assert p.children(a / "nowhere") == [] and p.below(PurePosixPath("/srv")) == []
    del p[a / "u0.service"]
    assert p.children(a) == [] and len(p) == 3
    assert p == {q: FileKind.FILE for q in p}  # a mapping like any other


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["/a", "/a/b", "/a/b/c", "/a/d", "/e"]),
            st.sampled_from([FileKind.FILE, FileKind.DIR, None, "del"]),
        ),
        max_size=12,
    )
)
def test_an_overlay_decides_as_a_walk_over_every_parent(steps: list[tuple[str, object]]) -> None:
    # the overlay skips the walk over parents while nothing is removed: same answers as the walk
    from portablekit.portabled.pending import PendingChanges

    p = PendingChanges()
    plain: dict[PurePosixPath, FileKind | None] = {}
    for path, kind in steps:
        q = PurePosixPath(path)
        if kind == "del":
            p.pop(q, None)
            plain.pop(q, None)
        else:
            assert kind is None or isinstance(kind, FileKind)
            p[q] = plain[q] = kind
    assert p.removes == any(k is None for k in plain.values())
    with tempfile.TemporaryDirectory() as empty:
        host = Host(empty, Systemd(257))
        fast, walk = host.overlay(p), host.overlay(plain)  # a dict has no shortcut
        for path in ["/a", "/a/b", "/a/b/c", "/a/b/c/x", "/a/d", "/e/f", "/g"]:
            assert fast.kind(path) == walk.kind(path), path


@pytest.mark.parametrize("version", [257, 262])
def test_list_is_linear_in_attached_images(tmp_path: Path, version: int) -> None:
    # list asks for every image: each was matched against every marker (images x images)
    counts = []
    for n in (20, 160):
        root = SandboxRoot.init(tmp_path / f"images{n}", Systemd(version))
        images = [f"img{k:03d}" for k in range(n)]
        for name in images:
            _image(root, name, 1)
            root.apply(plan_attach(root.host, name, matches=[name]))
        queries = [(f"/var/lib/portables/{name}",) for name in images]
        states = image_states(root.host, queries)
        assert all(s.is_attached for s in states)
        counts.append(_calls(lambda root=root, queries=queries: image_states(root.host, queries)))
    print(f"list of images on systemd {version}: x{counts[1] / counts[0]:.2f} for x8 images")
    assert counts[1] / counts[0] < 8 * 1.25
