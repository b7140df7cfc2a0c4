"""The sandbox root: confined, atomic writes, plans carried out, image trees laid."""

from __future__ import annotations

import gc
import io
import os
import stat
import threading
import time
from pathlib import Path, PurePosixPath

import pytest

from portablekit.errors import SandboxError
from portablekit.portabled.host import ACTIVE_UNITS
from portablekit.portabled.plan import Op, OpKind, Plan
from portablekit.sandbox import SandboxRoot
from portablekit.sandbox.fs import SYSCALLS
from portablekit.source import Content, FileKind, MemorySource, Stat, Symlink
from portablekit.versions import Systemd


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


_FILES: dict[str, Content] = {
    "usr/bin/tool": b"#!/bin/sh\n",
    "usr/lib/os-release": "ID=test\n",
    "etc/os-release": Symlink("../usr/lib/os-release"),
    "etc/secret": "s",
    "empty": None,
}


def _tree(cls: type[MemorySource] = MemorySource) -> MemorySource:
    return cls(
        _FILES,
        label="<test tree>",
        modes={"usr/bin/tool": 0o755, "etc/secret": 0o600, "usr/lib": 0o750},
        mtime=1_600_000_000,
    )


def test_materialize_keeps_kinds_modes_times_and_links(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r")
    at = root.materialize(_tree(), "/srv/images/tree")
    assert at == PurePosixPath("/srv/images/tree")
    top = root.machine_path(at)
    modes = {
        str(p.relative_to(top)): stat.S_IMODE(os.lstat(p).st_mode)
        for p in [top, *top.rglob("*")]
        if not p.is_symlink()
    }
    assert modes == {
        ".": 0o755,
        "usr": 0o755,
        "usr/bin": 0o755,
        "usr/bin/tool": 0o755,
        "usr/lib": 0o750,
        "usr/lib/os-release": 0o644,
        "etc": 0o755,
        "etc/secret": 0o600,
        "empty": 0o755,
    }
    assert os.readlink(top / "etc/os-release") == "../usr/lib/os-release"
    assert (top / "usr/lib/os-release").read_text() == "ID=test\n"
    for rel in modes:
        assert os.lstat(top / rel).st_mtime == 1_600_000_000, rel
    # parents made on the way are 0755; nothing is left under a temporary name
    assert stat.S_IMODE(os.stat(root.machine_path("/srv/images")).st_mode) == 0o755
    assert os.listdir(root.machine_path("/srv/images")) == ["tree"]


def test_materialize_is_confined_and_refuses_to_overwrite(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r")
    outside = tmp_path / "outside"
    outside.mkdir()
    # a link in the root to the machine's directory points inside the simulated host
    os.symlink(str(outside), root.path / "escape")
    with pytest.raises(SandboxError, match="missing directory"):
        root.materialize(_tree(), "/escape/img")
    os.symlink("../../..", root.path / "up")  # '..' stops at the root, as on the real host
    root.materialize(_tree(), "/up/img")
    assert root.machine_path("/img/etc/secret").read_text() == "s"
    assert not list(outside.iterdir())
    with pytest.raises(SandboxError, match="exists already"):
        root.materialize(_tree(), "/img")
    with pytest.raises(SandboxError, match="sandbox root itself"):
        root.materialize(_tree(), "/")


def test_materialize_is_all_or_nothing(tmp_path: Path) -> None:
    class WithAFifo(MemorySource):
        def lstat(self, path: PurePosixPath) -> Stat:
            st = super().lstat(path)
            return Stat(FileKind.FIFO, 0o644) if path.name == "secret" else st

    root = SandboxRoot.init(tmp_path / "r")
    with pytest.raises(SandboxError, match="fifo cannot be laid"):
        root.materialize(_tree(WithAFifo), "/srv/img")  # after other entries were made
    assert os.listdir(root.machine_path("/srv")) == []


def test_service_manager_ops(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r")
    root.set_active_units({"b.service": "reloading", "c.service": "active"})

    def ops(*pairs: tuple[OpKind, str]) -> Plan:
        return Plan("x", "", tuple(Op(k, ACTIVE_UNITS, target=u) for k, u in pairs))

    root.apply(ops((OpKind.START, "a.service"), (OpKind.START, "b.service")))
    assert root.machine_path(ACTIVE_UNITS).read_text() == (
        "a.service active\nb.service active\nc.service active\n"
    )
    root.apply(ops((OpKind.STOP, "c.service"), (OpKind.STOP, "never.service")))
    assert root.host.active_units() == {"a.service": "active", "b.service": "active"}
    with pytest.raises(SandboxError, match="not the service manager's state file"):
        root.apply(Plan("x", "", (Op(OpKind.START, PurePosixPath("/etc/x"), target="a"),)))


def test_a_run_of_starts_and_stops_rewrites_the_state_file_once(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r")
    root.set_active_units({"z.service": "active"})
    kinds = [OpKind.START, OpKind.STOP] * 50 + [OpKind.START]
    units = [f"u{i % 7}.service" for i in range(len(kinds))]
    plan = Plan(
        "x", "", tuple(Op(k, ACTIVE_UNITS, target=u) for k, u in zip(kinds, units, strict=True))
    )
    renames: list[str] = []

    def note(call: str, changes: bool, name: str) -> None:
        if call == "rename" and name != "journal":
            renames.append(name)

    SYSCALLS.hooks.append(note)
    try:
        root.apply(plan)
    finally:
        SYSCALLS.hooks.remove(note)
    assert renames == [ACTIVE_UNITS.name]
    # the same as one operation after the other: the last word on each unit counts
    want = {"z.service": "active"}
    for k, u in zip(kinds, units, strict=True):
        if k is OpKind.START:
            want[u] = "active"
        else:
            want.pop(u, None)
    assert len(want) > 2
    assert root.host.active_units() == want


def test_chmod_sets_modes_and_never_follows_a_link(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r")
    outside = tmp_path / "outside"
    outside.write_text("x")
    outside.chmod(0o644)
    root.write_file("/var/lib/portables/img.raw", b"raw", mode=0o644)
    os.symlink(outside, root.path / "var/lib/portables/link.raw")
    os.mkfifo(root.path / "var/lib/portables/fifo.raw", 0o644)

    def chmod(path: str, mode: int) -> Plan:
        return Plan("read-only", "img", (Op(OpKind.CHMOD, PurePosixPath(path), mode=mode),))

    root.apply(chmod("/var/lib/portables/img.raw", 0o444))
    assert stat.S_IMODE(os.stat(root.path / "var/lib/portables/img.raw").st_mode) == 0o444
    root.apply(chmod("/var/lib/portables/fifo.raw", 0o400))  # a FIFO never blocks the open
    assert stat.S_IMODE(os.stat(root.path / "var/lib/portables/fifo.raw").st_mode) == 0o400
    with pytest.raises(SandboxError, match=r"^/var/lib/portables/link.raw: chmod failed: "):
        root.apply(chmod("/var/lib/portables/link.raw", 0o444))
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644
    with pytest.raises(SandboxError, match="root has changed"):
        root.apply(chmod("/var/lib/portables/gone.raw", 0o444))


def test_host_is_built_once(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(262))
    assert root.host is root.host
    root.systemd = Systemd(262, fixed=True)
    assert root.host.systemd == Systemd(262, fixed=True) and root.host is root.host


def test_temporary_roots_go_away(tmp_path: Path) -> None:
    with SandboxRoot.temporary(Systemd(252)) as root:
        path = root.path
        assert root.is_sandbox and root.systemd == Systemd(252)
    assert not path.exists() and not path.parent.exists()
    root = SandboxRoot.temporary()
    path = root.path
    with pytest.warns(ResourceWarning, match="Implicitly cleaning up"):
        del root
        gc.collect()
    assert not path.exists()
    # closing a root that is not temporary leaves it alone
    kept = SandboxRoot.init(tmp_path / "kept")
    with kept:
        pass
    assert kept.is_sandbox


# -- one operation at a time, and what a killed one left -------------------------------------


def _plan(*ops: Op) -> Plan:
    return Plan("attach", "", ops)


@pytest.mark.parametrize("killed_in", [0, 1])
def test_an_interrupted_plan_is_finished_by_the_next_operation(
    tmp_path: Path, killed_in: int
) -> None:
    from portablekit.sandbox.journal import Journal, session

    root = SandboxRoot.init(tmp_path / "r")
    ops = (
        Op(OpKind.MKDIR, PurePosixPath("/srv/a"), mode=0o750),
        Op(OpKind.WRITE, PurePosixPath("/srv/a/f"), data=b"x\n", replace=True),
        Op(OpKind.SYMLINK, PurePosixPath("/srv/a/l"), target="f"),
    )
    with session(root.path) as s:  # what a process killed in operation 0 or 1 leaves
        journal = Journal("0123456789", "attach", ops)
        s.write_journal(journal)
        s.begin(journal, 0)
        os.mkdir(root.path / "srv/a", 0o700)  # killed before the mode was set ...
        if killed_in == 1:
            os.chmod(root.path / "srv/a", 0o750)  # ... or after, in the next operation
            s.begin(journal, 1)
            (root.path / "srv/a" / ".#f.0123456789.1").write_bytes(b"half")
        os.close(journal.fd)
    with root.operation() as op:
        assert op is not None and op.recovered
    assert stat.S_IMODE(os.stat(root.path / "srv/a").st_mode) == 0o750
    assert (root.path / "srv/a/f").read_bytes() == b"x\n"
    assert os.readlink(root.path / "srv/a/l") == "f"
    assert sorted(os.listdir(root.path / "srv/a")) == ["f", "l"]
    assert not (root.path / "run/portablekit/journal").exists()
    assert root.notes == []


def test_what_cannot_be_finished_is_said_once(tmp_path: Path) -> None:
    from portablekit.cli.portablectl import run
    from portablekit.sandbox.journal import Journal, session

    root = SandboxRoot.init(tmp_path / "r")
    with session(root.path) as s:
        journal = Journal(
            "abcdefabcd",
            "attach",
            (Op(OpKind.COPY_FILE, PurePosixPath("/srv/x"), source=PurePosixPath("/gone")),),
        )
        s.write_journal(journal)
        os.close(journal.fd)
    out, err = io.StringIO(), io.StringIO()
    assert run(["is-attached", "minimal"], root=root, stdout=out, stderr=err) == 0
    assert err.getvalue() == (
        "portablekit: an interrupted attach was not finished: /srv/x: copy-file failed: "
        "/gone: No such file or directory\n"
    )
    err = io.StringIO()
    assert run(["is-attached", "minimal"], root=root, stdout=out, stderr=err) == 0
    assert err.getvalue() == ""  # the journal went: said once
    assert not (root.path / "run/portablekit/journal").exists()


def test_operations_wait_for_each_other(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r")
    held = threading.Event()
    order: list[str] = []

    def holder() -> None:
        with root.operation():
            held.set()
            time.sleep(0.3)
            order.append("first")

    t = threading.Thread(target=holder)
    t.start()
    held.wait(10)
    other = SandboxRoot(root.path)
    other.write_file("/srv/second", "x")  # waits for the holder's lock
    order.append("second")
    t.join(10)
    assert order == ["first", "second"]
    with root.operation() as a, root.operation() as b:  # nested in one thread: one session
        assert a is b and a is not None and a.depth == 2


def test_a_foreign_or_unlockable_root_is_read_unlocked(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with SandboxRoot(plain).operation() as s:
        assert s is None
    root = SandboxRoot.init(tmp_path / "r")
    lock = root.path / "run/portablekit/lock"
    os.mkfifo(lock)  # not a lock file
    with root.operation() as s:
        assert s is None
    with pytest.raises(SandboxError, match="run/portablekit/lock: cannot lock the sandbox root"):
        root.write_file("/srv/x", "never")
