"""Nothing is written outside a sandbox root: links and directories swapped for links at every
level of the root, while an operation runs; the marker and its directories; ``sandbox init``
on ``/``, on links, on full, read-only and unwritable targets."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path, PurePosixPath

import pytest
from sandbox_support import clone, ctl, fail_at, hooked, kill_at, leftovers, state, untouched

from portablekit.cli.main import main
from portablekit.errors import SandboxError
from portablekit.samples import sample_sandbox
from portablekit.sandbox import SandboxRoot
from portablekit.sandbox.fs import NAME_MAX, open_dir, open_root, temp_name
from portablekit.versions import Systemd

V257 = Systemd(257)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "root"
    sample_sandbox(path, systemd=V257, names=["minimal"])
    return path


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A directory outside every root that nothing may touch."""
    c = tmp_path / "canary"
    c.mkdir()
    os.chmod(c, 0o751)
    return c


def _no_changes(call: str, changes: bool, name: str) -> None:
    if changes:
        raise AssertionError(f"{call} {name}: nothing may be changed here")


# -- the descriptor walk ---------------------------------------------------------------------------


def test_the_walk_resolves_links_inside_the_root(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r", V257)
    (root.path / "srv/a/b").mkdir(parents=True)
    os.symlink("/srv/a", root.path / "srv/abs")  # absolute: from the root
    os.symlink("../../srv/a/b", root.path / "srv/rel")  # relative, climbing
    os.symlink("../../../../../../srv", root.path / "srv/up")  # '..' stops at the root
    os.symlink(str(tmp_path), root.path / "srv/machine")  # this machine's path: inside the root
    os.symlink("loop", root.path / "srv/loop")
    fd = open_root(root.path)
    try:
        for path, want in (
            ("/srv/abs/b", "srv/a/b"),
            ("/srv/rel", "srv/a/b"),
            ("/srv/up/a", "srv/a"),
        ):
            d = open_dir(fd, path)
            try:
                assert os.readlink(f"/proc/self/fd/{d}") == str(root.path / want)
            finally:
                os.close(d)
        with pytest.raises(OSError, match="a link into a missing directory") as e:
            open_dir(fd, "/srv/machine/x")
        assert e.value.filename == "/srv/machine"
        with pytest.raises(OSError) as e:
            open_dir(fd, "/srv/loop")
        assert e.value.errno == errno.ELOOP
        with pytest.raises(OSError) as e:
            open_dir(fd, "/srv/abs/b", follow=False)
        assert (e.value.errno, e.value.filename) == (errno.ENOTDIR, "/srv/abs")
    finally:
        os.close(fd)


def test_temporary_names_fit_in_a_name() -> None:
    long = "u" * 247 + ".service"  # 255 bytes: the longest name
    tmp = temp_name(long, "0123456789.12")
    assert len(os.fsencode(tmp)) == NAME_MAX and tmp.startswith(".#uuu") and tmp.endswith(".12")
    assert temp_name("é" * 200, "x").startswith(".#")  # cut inside a character: still a name


def test_a_252_character_unit_name_attaches_and_detaches(tmp_path: Path, template: Path) -> None:
    root = clone(template, tmp_path / "r", V257)
    name = "l" * 244
    img = root.path / "var/lib/portables" / name
    shutil.copytree(root.path / "var/lib/portables/minimal", img, symlinks=True)
    units = img / "usr/lib/systemd/system"
    for u in units.iterdir():
        u.unlink()
    (units / f"{name}.service").write_text("[Service]\nExecStart=/bin/true\n")
    assert len(f"{name}.service") == 252
    rc, _, err = ctl(root, "--no-reload", "--copy=copy", "attach", name)
    assert rc == 0, err
    assert (root.path / f"etc/systemd/system.attached/{name}.service.d/20-portable.conf").is_file()
    rc, _, err = ctl(root, "--no-reload", "detach", name)
    assert rc == 0, err
    assert leftovers(root.path) == []
    assert not (root.path / "etc/systemd/system.attached").exists()


# -- a directory swapped for a link while an operation runs ------------------------------------


LEVELS = [
    "etc",
    "etc/systemd",
    "etc/systemd/system.attached",
    "etc/systemd/system.attached/minimal.service.d",
    "etc/portables",
]


def _attach_swapping(root: SandboxRoot, level: str, at: int, outside: Path) -> tuple[int, bool]:
    """Attach ``minimal`` while, at the ``at``-th step the sandbox reports, ``level`` is moved
    away and a link to ``outside`` put in its place. Returns (exit status, swapped)."""
    seen = [0]
    swapped = [False]

    def swap(call: str, changes: bool, name: str) -> None:
        seen[0] += 1
        d = root.path / level
        if seen[0] == at and os.path.isdir(d) and not os.path.islink(d):
            os.rename(d, f"{d}.moved")
            os.symlink(str(outside), d)  # to this machine's directory
            swapped[0] = True

    with hooked(swap):
        rc, _, _ = ctl(root, "--no-reload", "attach", "--copy=copy", "--enable", "minimal")
    return rc, swapped[0]


def _steps_of_attach(root: SandboxRoot) -> int:
    seen = [0]

    def count(call: str, changes: bool, name: str) -> None:
        seen[0] += 1

    with hooked(count):
        assert ctl(root, "--no-reload", "attach", "--copy=copy", "--enable", "minimal")[0] == 0
    return seen[0]


@pytest.mark.parametrize("level", LEVELS)
def test_a_directory_swapped_for_a_link_never_leads_a_write_outside(
    tmp_path: Path, template: Path, canary: Path, level: str
) -> None:
    steps = _steps_of_attach(clone(template, tmp_path / "count", V257))
    before = untouched(canary)
    swaps = 0
    for at in range(1, steps + 1, 7):
        root = clone(template, tmp_path / f"r{at}", V257)
        _, swapped = _attach_swapping(root, level, at, canary)
        swaps += swapped
        assert untouched(canary) == before, (level, at)
        shutil.rmtree(root.path)
    assert swaps > 0


@pytest.mark.slow
@pytest.mark.parametrize("level", LEVELS)
def test_a_directory_swapped_at_every_step(
    tmp_path: Path, template: Path, canary: Path, level: str
) -> None:
    steps = _steps_of_attach(clone(template, tmp_path / "count", V257))
    before = untouched(canary)
    for at in range(1, steps + 1):
        root = clone(template, tmp_path / f"r{at}", V257)
        _attach_swapping(root, level, at, canary)
        assert untouched(canary) == before, (level, at)
        shutil.rmtree(root.path)


def test_the_parents_links_inside_the_root_still_lead_there(tmp_path: Path, template: Path) -> None:
    root = clone(template, tmp_path / "r", V257)
    (root.path / "srv/links").mkdir()
    os.symlink("/srv/links", root.path / "etc/portables")  # /etc/portables as a link
    assert ctl(root, "--no-reload", "attach", "minimal")[0] == 0
    assert os.readlink(root.path / "srv/links/minimal") == "/var/lib/portables/minimal"
    assert ctl(root, "--no-reload", "detach", "minimal")[0] == 0
    assert os.listdir(root.path / "srv/links") == []


# -- the marker --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["run", "run/portablekit", "run/portablekit/sandbox.json"])
def test_a_marker_reached_through_a_link_decides_nothing(
    tmp_path: Path, canary: Path, where: str
) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(252))
    elsewhere = canary / "copy"
    shutil.copytree(root.path / where, elsewhere, symlinks=True) if (
        root.path / where
    ).is_dir() else shutil.copy2(root.path / where, elsewhere)
    before = untouched(canary)
    moved = root.path / (where + ".real")
    os.rename(root.path / where, moved)
    os.symlink(str(elsewhere), root.path / where)
    again = SandboxRoot(root.path)
    assert not again.is_sandbox
    assert again.systemd == Systemd()  # the version is not read through the link either
    with pytest.raises(SandboxError, match="not a portablekit sandbox"):
        again.write_file("/etc/x", "never")
    assert untouched(canary) == before


def test_a_fifo_as_marker_never_blocks(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r")
    marker = root.path / "run/portablekit/sandbox.json"
    marker.unlink()
    os.mkfifo(marker)
    result: list[object] = []
    t = threading.Thread(target=lambda: result.append(SandboxRoot(root.path).is_sandbox))
    t.start()
    t.join(10)
    assert result == [False]
    rc, _, err = ctl(SandboxRoot(root.path), "is-attached", "minimal")
    assert (rc, err) == (0, "")  # a verb that only reads still answers


# -- sandbox init --------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["/", "//", "/.", "/tmp/..", "$UNSET/"])
def test_init_refuses_this_machines_root(spelling: str) -> None:
    path = spelling.replace("$UNSET", os.environ.get("PORTABLEKIT_UNSET_FOR_TEST", ""))
    with hooked(_no_changes):
        with pytest.raises(SandboxError, match="this machine's root directory"):
            SandboxRoot.init(path, exist_ok=True)
        rc = main(["sandbox", "init", "--exist-ok", path], environ={})
    assert rc == 1
    assert not SandboxRoot("/").is_sandbox


def test_init_refuses_a_link_to_the_machines_root(tmp_path: Path) -> None:
    os.symlink("/", tmp_path / "slash")
    with hooked(_no_changes), pytest.raises(SandboxError, match="this machine's root directory"):
        SandboxRoot.init(tmp_path / "slash", exist_ok=True)


@pytest.mark.parametrize(
    "linked", ["tmp", "usr", "var/lib/portables", "run", "run/portablekit", "etc/systemd"]
)
def test_init_exist_ok_never_follows_a_link_out(tmp_path: Path, canary: Path, linked: str) -> None:
    d = tmp_path / "d"
    (d / linked).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(str(canary), d / linked)
    (d / "keep").write_text("the admin's\n")
    before, inside = untouched(canary), state(d)
    with pytest.raises(SandboxError, match=f"{d}/{linked} is a symbolic link, not a directory"):
        SandboxRoot.init(d, exist_ok=True)
    assert untouched(canary) == before
    assert state(d) == inside  # refused before anything was written


def test_init_exist_ok_refuses_a_fifo_where_a_file_goes(tmp_path: Path) -> None:
    d = tmp_path / "d"
    (d / "usr/lib").mkdir(parents=True)
    os.mkfifo(d / "usr/lib/os-release")
    with pytest.raises(SandboxError, match="os-release is a FIFO, not a regular file"):
        SandboxRoot.init(d, exist_ok=True)


def test_init_exist_ok_keeps_what_is_there(tmp_path: Path) -> None:
    d = tmp_path / "d"
    (d / "etc/portables").mkdir(parents=True)
    (d / "etc/portables/mine").write_text("x")
    root = SandboxRoot.init(d, exist_ok=True)
    assert root.is_sandbox and (d / "etc/portables/mine").read_text() == "x"
    assert SandboxRoot.init(d, exist_ok=True).is_sandbox  # again: an existing sandbox


def _init_calls(tmp_path: Path, existed: bool = False) -> int:
    """How many changes ``sandbox init`` makes (into a missing or an empty directory)."""
    n = [0]

    def count(call: str, changes: bool, name: str) -> None:
        n[0] += changes

    d = tmp_path / ("counted-in-place" if existed else "counted")
    if existed:
        d.mkdir()
    with hooked(count):
        SandboxRoot.init(d)
    return n[0]


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT])
@pytest.mark.parametrize("existed", [False, True])
def test_init_that_cannot_write_says_why_and_leaves_nothing(
    tmp_path: Path, err: int, existed: bool
) -> None:
    calls = _init_calls(tmp_path, existed)
    for at in sorted({1, 2, 3, calls // 2, calls - 1, calls}):
        d = tmp_path / f"d{at}" / "host"
        if existed:
            d.mkdir(parents=True)
        with hooked(fail_at(at, err)), pytest.raises(SandboxError) as e:
            SandboxRoot.init(d)
        assert str(e.value).startswith(f"{d}: cannot make a sandbox root there: {tmp_path}/d{at}")
        assert str(e.value).endswith(os.strerror(err))
        if existed:
            assert os.listdir(d) == []
        else:
            assert not (tmp_path / f"d{at}").exists() or os.listdir(tmp_path / f"d{at}") == []
        assert SandboxRoot.init(d).is_sandbox  # a second init is not refused


@pytest.mark.slow
def test_init_failing_at_every_call_leaves_nothing(tmp_path: Path) -> None:
    calls = _init_calls(tmp_path)
    for at in range(1, calls + 1):
        d = tmp_path / f"d{at}"
        with (
            hooked(fail_at(at, errno.ENOSPC)),
            pytest.raises(SandboxError, match="No space left on device"),
        ):
            SandboxRoot.init(d)
        assert not d.exists()


def test_init_killed_half_way_resumes(tmp_path: Path) -> None:
    calls = _init_calls(tmp_path, existed=True)
    for at in sorted({1, 2, 3, 5, 8, calls // 2, calls - 2, calls - 1, calls}):
        d = tmp_path / f"k{at}"
        d.mkdir()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child dies by SIGKILL
            try:
                with hooked(kill_at(at)):
                    SandboxRoot.init(d)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), at
        assert not SandboxRoot(d).is_sandbox
        root = SandboxRoot.init(d)  # resumes: no --exist-ok needed
        assert root.is_sandbox and leftovers(d) == []
        assert state(d) == state(tmp_path / "counted-in-place"), at


def _mount_helper_works() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, check=False
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _mount_helper_works(), reason="needs root and unshare to mount a tmpfs")
@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ("ro", "Read-only file system"),
        ("size=8k", "No space left on device"),
        ("nr_inodes=12", "No space left on device"),
    ],
)
def test_init_on_a_real_read_only_or_full_file_system(
    tmp_path: Path, options: str, reason: str
) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = (
        f"mount -t tmpfs -o {options} tmpfs {mnt} && "
        f"{sys.executable} -m portablekit --systemd 257 sandbox init {mnt}/host; echo rc=$?; "
        f"{sys.executable} -m portablekit --systemd 257 sandbox init {mnt}; echo rc=$?; "
        f"ls -A {mnt}; echo end"
    )
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith(f"portablekit sandbox: {mnt}/host: cannot make a sandbox root there")
    assert all(line.endswith(reason) for line in lines), lines
    assert proc.stdout.split() == ["rc=1", "rc=1", "end"]  # nothing left in the mount


@pytest.mark.skipif(not _mount_helper_works(), reason="needs root and unshare to bind-mount")
def test_enable_now_with_a_read_only_state_directory(tmp_path: Path, template: Path) -> None:
    root = clone(template, tmp_path / "r", V257)
    before = state(root.path)
    state_dir = root.path / "run/portablekit"
    script = (
        f"mount --bind {state_dir} {state_dir} && mount -o remount,bind,ro {state_dir} && "
        f"{sys.executable} -m portablekit --root {root.path} attach --no-reload --enable --now "
        "minimal; echo rc=$?"
    )
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.stdout.split() == ["rc=1"], proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "/run/portablekit/journal: cannot write the journal of this attach, nothing was changed: "
        "Read-only file system"
    )
    assert state(root.path) == before and leftovers(root.path) == []


# -- carrying out plans that the file system refuses ----------------------------------------


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS])
def test_attach_that_cannot_write_names_the_file_and_leaves_no_temporary(
    tmp_path: Path, template: Path, err: int
) -> None:
    root = clone(template, tmp_path / "count", V257)
    n = [0]

    def count(call: str, changes: bool, name: str) -> None:
        n[0] += changes

    with hooked(count):
        assert ctl(root, "--no-reload", "--copy=mixed", "attach", "minimal")[0] == 0
    for at in range(2, n[0] + 1, 5):
        root = clone(template, tmp_path / f"r{at}", V257)
        with hooked(fail_at(at, err, spare=("lock",))):  # (a verb may read unlocked)
            rc, _, out = ctl(root, "--no-reload", "--copy=mixed", "attach", "minimal")
        last = out.splitlines()[-1]
        assert rc == 1 and last.startswith("/") and last.endswith(os.strerror(err)), out
        assert leftovers(root.path) == [], at
        rc, _, out = ctl(root, "--no-reload", "detach", "minimal")  # what was done goes
        assert leftovers(root.path) == [] and "Traceback" not in out


def test_enable_now_with_an_unwritable_state_directory(tmp_path: Path, template: Path) -> None:
    root = clone(template, tmp_path / "r", V257)
    before = state(root.path)

    def read_only_state(call: str, changes: bool, name: str) -> None:
        if changes and (name in ("lock", "journal.new") or "active-units" in name):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), name)

    with hooked(read_only_state):
        rc, _, err = ctl(root, "--no-reload", "attach", "--enable", "--now", "minimal")
    assert rc == 1
    assert err.splitlines()[-1] == (
        "/run/portablekit/journal: cannot write the journal of this attach, nothing was changed: "
        "Read-only file system"
    )
    assert state(root.path) == before and leftovers(root.path) == []


# -- special files in a copied image --------------------------------------------------------------


def _image_with_nodes(root: SandboxRoot, devices: bool) -> Path:
    img = root.path / "var/lib/portables/nodes"
    shutil.copytree(root.path / "var/lib/portables/minimal", img, symlinks=True)
    (img / "special").mkdir()
    os.mkfifo(img / "special/fifo", 0o640)
    here = os.getcwd()
    os.chdir(img / "special")
    try:
        socket.socket(socket.AF_UNIX).bind("sock")
    finally:
        os.chdir(here)
    if devices:
        (img / "dev").mkdir(exist_ok=True)
        os.mknod(img / "dev/zero", 0o666 | stat.S_IFCHR, os.makedev(1, 5))
    return img


def test_copy_mixed_copies_fifos_and_sockets_as_nodes(tmp_path: Path, template: Path) -> None:
    root = clone(template, tmp_path / "r", V257)
    _image_with_nodes(root, devices=os.geteuid() == 0)
    rc, _, err = ctl(root, "--no-reload", "--copy=mixed", "attach", "nodes", "minimal")
    assert rc == 0, err
    src = state(root.path / "var/lib/portables/nodes")
    assert state(root.path / "etc/portables/nodes") == src
    assert ctl(root, "--no-reload", "detach", "nodes")[0] == 0
    assert not os.path.lexists(root.path / "etc/portables/nodes")


def test_a_device_node_that_cannot_be_made_is_named(tmp_path: Path, template: Path) -> None:
    root = clone(template, tmp_path / "r", V257)
    img = _image_with_nodes(root, devices=False)
    (img / "dev").mkdir(exist_ok=True)
    os.mkfifo(img / "dev/zero")  # stands for the device the caller may not make

    def no_privilege(call: str, changes: bool, name: str) -> None:
        if call == "mknod" and name == "zero":
            raise OSError(errno.EPERM, os.strerror(errno.EPERM), name)

    with hooked(no_privilege):
        rc, _, err = ctl(root, "--no-reload", "--copy=mixed", "attach", "nodes", "minimal")
    assert rc == 1
    assert err.splitlines()[-1] == (
        "/etc/portables/nodes: copy-tree failed: /var/lib/portables/nodes/dev/zero: "
        "Operation not permitted"
    )
    assert leftovers(root.path) == []


def test_the_root_itself_is_never_an_operation(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r")
    with pytest.raises(SandboxError, match="sandbox root itself"):
        root.remove(PurePosixPath("/"))
    assert root.is_sandbox
