"""Helpers of the sandbox tests: cheap copies of a prepared root, the state of a root as a value,
what a killed or failed operation may have left, portablectl verbs run in-process."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import pytest

from portablekit.cli.portablectl import run
from portablekit.sandbox import SandboxRoot
from portablekit.sandbox.fs import SYSCALLS, Hook
from portablekit.versions import Systemd

#: Entries of /run/portablekit that belong to the machinery, not to the state it keeps (the
#: journal is looked for by :func:`leftovers`).
MACHINERY = ("run/portablekit/lock", "run/portablekit/journal")
#: Kept by the sandbox with inode numbers, which differ from copy to copy: compared by path.
RECORD = "run/portablekit/made-by-attach"


def clone(template: Path, dest: Path, systemd: Systemd) -> SandboxRoot:
    """A copy of the prepared root ``template`` at ``dest`` (modes, links and times kept)."""
    shutil.copytree(template, dest, symlinks=True)
    return SandboxRoot(dest, systemd)


def state(root: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry below ``root``: ``{relative path: (kind, mode, link target or digest)}``."""
    out: dict[str, tuple[str, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if rel in MACHINERY:
                continue
            st = os.lstat(p)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            elif rel == RECORD:
                paths = sorted(json.loads(line)["path"] for line in p.read_text().splitlines())
                out[rel] = ("file", mode, " ".join(paths))
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", mode, hashlib.sha256(p.read_bytes()).hexdigest()[:16])
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", mode, "")
            else:
                out[rel] = ("node", mode, str(stat.S_IFMT(st.st_mode)))
    return out


def leftovers(root: Path) -> list[str]:
    """Temporary entries and journals anywhere below ``root`` (what must never stay)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            rel = str((Path(dirpath) / name).relative_to(root))
            if name.startswith(".#") or rel in (
                "run/portablekit/journal",
                "run/portablekit/journal.new",
            ):
                found.append(rel)
    return sorted(found)


def ctl(root: SandboxRoot, *argv: str) -> tuple[int, str, str]:
    """``portablectl ARGV`` on ``root`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    rc = run(list(argv), root=root, stdout=out, stderr=err, cwd=PurePosixPath("/"))
    return rc, out.getvalue(), err.getvalue()


@contextmanager
def hooked(hook: Hook) -> Iterator[None]:
    """``hook`` on the sandbox's system-call layer for a ``with`` block."""
    SYSCALLS.hooks.append(hook)
    try:
        yield
    finally:
        SYSCALLS.hooks.remove(hook)


def count_changes(fn: object) -> int:
    """How many file-changing calls ``fn()`` makes through the sandbox."""
    n = [0]

    def counter(call: str, changes: bool, name: str) -> None:
        if changes:
            n[0] += 1

    assert callable(fn)
    with hooked(counter):
        fn()
    return n[0]


def untouched(canary: Path) -> tuple[list[str], int, int]:
    """What must not change in a directory outside every root: its listing, mode, mtime."""
    st = os.lstat(canary)
    return sorted(os.listdir(canary)), st.st_mode, st.st_mtime_ns


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A scratch directory on a tmpfs where there is one (many roots are made and thrown
    away: ten times faster than on a disk that journals), else ``tmp_path``."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK | os.X_OK)):
        yield tmp_path
        return
    d = Path(tempfile.mkdtemp(prefix="portablekit-test-", dir=shm))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def fail_at(at: int, err: int, spare: tuple[str, ...] = ()) -> Hook:
    """A hook making the ``at``-th file-changing call fail with ``err`` (as the kernel would:
    the call is not made); calls about a name in ``spare`` are counted but never fail."""
    seen = [0]

    def fail(call: str, changes: bool, name: str) -> None:
        seen[0] += changes
        if changes and seen[0] == at and name not in spare:
            raise OSError(err, os.strerror(err), name)

    return fail


def kill_at(n: int) -> Hook:
    """A hook sending this process SIGKILL at its ``n``-th file-changing call."""
    seen = [0]

    def die(call: str, changes: bool, name: str) -> None:
        seen[0] += changes
        if changes and seen[0] == n:
            os.kill(os.getpid(), 9)

    return die
