"""No traceback and no silent failure: each case a user met, with the clear answer it now gets.

Each test runs the ``portablekit`` command as a user does (in a subprocess where the process's
own streams, locale or permissions matter) and asserts the exit status and the message, which
names the file and what is wrong with it.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from test_raw_support import tiny

from portablekit.cli.main import main
from portablekit.samples import install_samples
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd

PORTABLEKIT = [sys.executable, "-m", "portablekit"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    made = SandboxRoot.init(tmp_path / "host", Systemd(257))
    install_samples(made)
    return made.path


def _call(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(args), stdout=out, stderr=err, environ={}, cwd=cwd)
    return rc, out.getvalue(), err.getvalue()


def _process(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """``python -m portablekit ARGS`` in a process of its own (its streams, its locale)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONIO"))}
    environ.pop("PORTABLEKIT_ROOT", None)
    return subprocess.run(
        [*PORTABLEKIT, *args],
        capture_output=True,
        env={**environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def test_inspect_cat_writes_a_unit_that_is_not_utf8_as_its_bytes(root: Path) -> None:
    # portablectl writes the unit file as it is; a UTF-8 terminal's strict stream refused the
    # bytes (UnicodeEncodeError)
    unit = b"[Service]\nExecStart=/usr/bin/minimal caf\xe9 \xff\xfe\n"
    units = root / "var/lib/portables/minimal/usr/lib/systemd/system"
    (units / "minimal-latin1.service").write_bytes(unit)
    for env in ({"PYTHONIOENCODING": "utf-8"}, {"LC_ALL": "C.UTF-8"}):
        run = _process(
            "--root", str(root), "inspect", "--cat", "minimal", "minimal-latin1", env=env
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.endswith(b"\n-- Unit file: minimal-latin1.service --\n" + unit)
    # in-process, through a stream like the process's own
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    err = io.StringIO()
    args = ["--root", str(root), "inspect", "--cat", "minimal", "minimal-latin1"]
    assert main(args, stdout=out, stderr=err, environ={}) == 0, err.getvalue()
    out.flush()
    assert raw.getvalue().endswith(unit)


def test_an_image_name_that_is_not_utf8_is_refused_by_name(root: Path) -> None:
    # found by the command-line fuzz test: checking the name's length encoded it strictly
    name = os.fsdecode(b"caf\xe9")
    for verb in ("inspect", "attach", "is-attached", "detach"):
        rc, out, err = _call("--root", str(root), verb, name)
        assert rc in (0, 1) and "internal error" not in err, (verb, err)
    rc, _, err = _call("--root", str(root), "inspect", name)
    assert rc == 1 and f"'{name}'" in err
    rc, out, _ = _call("--root", str(root), "is-attached", name)
    assert (rc, out) == (0, "detached\n")


@pytest.mark.parametrize(
    "line",
    [
        ["security", "{fifo}.service"],
        ["security", "--profile", "{fifo}", "{image}"],
        ["compare-profiles", "{fifo}"],
        ["compare-profiles", "--unit", "{fifo}.service"],
        ["compare-profiles", "--unit", "{fifo}"],
    ],
)
def test_security_and_compare_profiles_refuse_a_fifo(
    root: Path, tmp_path: Path, line: list[str]
) -> None:
    # reading a FIFO waited for a writer forever
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    os.mkfifo(tmp_path / "pipe.service")
    image = root / "var/lib/portables/minimal"
    args = [w.format(fifo=fifo, image=image) for w in line]
    run = _process(*args, timeout=30)
    assert run.returncode == 1
    named = args[-1] if "--profile" not in args else str(fifo)
    assert run.stderr.decode().endswith(f": {named}: not a regular file but a FIFO\n")


def test_unit_files_that_are_not_regular_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "dir.service").mkdir()
    rc, _, err = _call("security", str(tmp_path / "dir.service"))
    assert (rc, err) == (
        1,
        f"portablekit security: {tmp_path}/dir.service: not a regular file but a directory\n",
    )
    rc, _, err = _call("compare-profiles", "/dev/null")
    assert (rc, err) == (
        1,
        "portablekit compare-profiles: /dev/null: not a regular file but a character device\n",
    )


def test_a_root_that_cannot_be_used_is_named(tmp_path: Path) -> None:
    long = tmp_path / ("x" * 300)
    rc, _, err = _call("--root", str(long), "list")
    assert (rc, err) == (
        1,
        f"portablekit: {long}: cannot be used as a sandbox root: File name too long\n",
    )
    (tmp_path / "file").write_text("x")
    rc, _, err = _call("--root", str(tmp_path / "file" / "below"), "list")
    assert rc == 1 and err.startswith(f"portablekit: {tmp_path}/file/below: ")
    os.symlink("loop", tmp_path / "loop")
    rc, _, err = _call("--root", str(tmp_path / "loop"), "list")
    assert rc == 1 and err.startswith(f"portablekit: {tmp_path}/loop: ")


@pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="as root, needs setpriv to run as a user a mode can stop",
)
def test_a_root_below_an_unreadable_directory_is_named(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    (locked / "inner").mkdir(parents=True)
    locked.chmod(0)
    tmp_path.chmod(0o755)
    try:
        prefix = []
        if os.geteuid() == 0:  # root reads any directory: ask as nobody
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        run = subprocess.run(
            [*prefix, *PORTABLEKIT, "--root", str(locked / "inner"), "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={k: v for k, v in os.environ.items() if k != "PORTABLEKIT_ROOT"},
        )
    finally:
        locked.chmod(0o755)
    assert run.returncode == 1, run.stderr
    assert run.stderr == (
        f"portablekit: {locked}/inner: cannot be used as a sandbox root: Permission denied\n"
    )


def test_remote_options_name_what_was_asked(root: Path) -> None:
    rc, _, err = _call("--root", str(root), "list", "-H", "example.org")
    assert (rc, err) == (1, "portablekit simulates the local host only, not --host=example.org.\n")


def test_portabled_errors_that_name_no_file_are_explained(root: Path) -> None:
    # portabled answers a bare strerror ("Directory not empty"); its log names the file, and so
    # does the kit's explaining line (portablectl's own line stays as the recordings have it)
    assert _call("--root", str(root), "attach", "minimal")[0] == 0
    dropins = root / "etc/systemd/system.attached/minimal.service.d"
    (dropins / "50-mine.conf").write_text("[Service]\nNice=5\n")
    rc, _, err = _call("--root", str(root), "detach", "minimal")
    assert rc == 1
    assert err.endswith(
        "Directory not empty\n"
        "portablekit: /etc/systemd/system.attached/minimal.service.d: holds 50-mine.conf\n"
    ), err


def test_detach_enable_with_a_wants_directory_that_is_a_link(root: Path) -> None:
    # the red-team report saw NotADirectoryError here; the plan leaves a linked .wants
    # directory alone (as systemd, which does not descend into links) and detaches the rest
    assert _call("--root", str(root), "attach", "--enable", "minimal")[0] == 0
    conf = root / "etc/systemd/system"
    wants = conf / "multi-user.target.wants"
    shutil.move(wants, root / "srv-wants")
    os.symlink("/srv-wants", wants)
    rc, _, err = _call("--root", str(root), "detach", "--enable", "minimal")
    assert rc == 0, err
    assert "Removed /etc/systemd/system/sockets.target.wants/minimal.socket." in err
    assert "multi-user.target.wants/minimal" not in err  # not through the link
    assert wants.is_symlink() and (root / "srv-wants" / "minimal.service").is_symlink()
    assert not (root / "etc/systemd/system.attached").exists()
    assert _call("--root", str(root), "is-attached", "minimal")[1] == "detached\n"


@pytest.mark.parametrize("kind", ["squashfs", "ext4", "erofs"])
def test_check_of_a_truncated_image_names_the_file_and_the_structure(
    tmp_path: Path, kind: str
) -> None:
    data = tiny("a", kind)
    used = struct.unpack_from("<Q", data, 40)[0] if kind == "squashfs" else len(data)
    # into the superblock (squashfs' is at 0, ext4's and EROFS's at 1024), then the middle,
    # then the last byte
    for cut in (60 if kind == "squashfs" else 1100, used // 2, used - 1):
        image = tmp_path / f"cut-{cut}.raw"
        image.write_bytes(data[:cut])
        rc, _, err = _call("check", str(image))
        assert rc == 1, err
        assert err.startswith(f"portablekit check: {image}: {kind[:3]}"), err
        assert "superblock" in err and "truncated" in err


def test_a_second_double_dash_is_refused_by_the_positional_it_leaves_empty(tmp_path: Path) -> None:
    # found by the command-line fuzz test: argparse before 3.12 took the second "--" as a
    # separator and gave OUT_DIR an empty list (TypeError in replay)
    rc, _, err = _call("replay", str(tmp_path), "--", "--")
    assert (rc, err) in (
        (2, "portablekit replay: argument OUT_DIR: expected one value\n"),
        (1, f"portablekit replay: {tmp_path}: not a scenario directory\n"),  # Python 3.12+
    )
