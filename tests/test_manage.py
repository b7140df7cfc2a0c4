"""The image management verbs as plans: read-only, remove, set-limit, and the image lock
(the rules the x-imgmgmt-* recordings pin)."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from pathlib import PurePosixPath

import pytest

from portablekit.cli.portablectl import run
from portablekit.errors import SandboxError
from portablekit.portabled.manage import (
    LOCK_DIR,
    plan_image_lock,
    plan_read_only,
    plan_remove,
    pool_limit_error,
    set_limit_error,
)
from portablekit.portabled.plan import Op, OpKind, Plan
from portablekit.samples import sample_source
from portablekit.sandbox import SandboxRoot

P = PurePosixPath
RAW = P("/var/lib/portables/mr.raw")


def _ctl(root: SandboxRoot, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = run(list(args), root=root, stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture
def mroot(make_root: Callable[..., SandboxRoot]) -> SandboxRoot:
    root: SandboxRoot = make_root(samples=False)
    root.materialize(sample_source("minimal"), "/var/lib/portables/md")
    root.write_file(RAW, b"\0" * 4096)
    return root


def test_the_lock_leaves_its_directories(mroot: SandboxRoot) -> None:
    lock = plan_image_lock(mroot.host)
    assert [(o.kind, str(o.path), o.mode) for o in lock.ops] == [
        (OpKind.MKDIR, "/run/systemd/nspawn", 0o755),
        (OpKind.MKDIR, str(LOCK_DIR), 0o700),
    ]
    mroot.apply(lock)
    assert not plan_image_lock(mroot.host).ops


def test_read_only_of_a_raw_image_is_its_mode(mroot: SandboxRoot) -> None:
    plan = plan_read_only(mroot.host, "mr")
    assert plan.ok and plan.ops[-1] == Op(OpKind.CHMOD, RAW, mode=0o444)
    mroot.apply(plan)
    assert mroot.machine_path(RAW).stat().st_mode & 0o777 == 0o444
    assert _ctl(mroot, "list")[1].splitlines()[2].split()[:3] == ["mr", "raw", "yes"]
    assert not [o for o in plan_read_only(mroot.host, "mr").ops if o.kind is OpKind.CHMOD]
    assert _ctl(mroot, "read-only", "mr", "no") == (0, "", "")
    assert mroot.machine_path(RAW).stat().st_mode & 0o777 == 0o644


def test_read_only_of_a_directory_cannot_set_the_immutable_flag(mroot: SandboxRoot) -> None:
    plan = plan_read_only(mroot.host, "md")
    assert plan.error is not None and plan.error.errno == errno.EOPNOTSUPP
    assert [o.kind for o in plan.ops] == [OpKind.MKDIR, OpKind.MKDIR]  # the lock, then refused
    assert plan_read_only(mroot.host, "md", read_only=False).ok
    assert _ctl(mroot, "read-only", "md") == (
        1,
        "",
        "Could not mark image read-only: Operation not supported\n",
    )
    assert _ctl(mroot, "read-only", "md", "bogus")[2] == "Failed to parse boolean argument: bogus\n"


def test_vendor_images_are_read_only(mroot: SandboxRoot) -> None:
    mroot.materialize(sample_source("minimal"), "/usr/lib/portables/mu")
    for plan in (plan_read_only(mroot.host, "mu"), plan_remove(mroot.host, "mu")):
        assert plan.error is not None and plan.error.message == "Read-only file system"
        assert not plan.ops  # refused before the lock
    assert set_limit_error(mroot.host, "mu").message == "Read-only file system"


def test_remove_deletes_the_image_and_its_settings(mroot: SandboxRoot) -> None:
    for f in ("/etc/systemd/nspawn/md.nspawn", "/var/lib/portables/md.roothash"):
        mroot.write_file(f, "x\n")
    plan = plan_remove(mroot.host, "md")
    assert (OpKind.REMOVE_TREE, P("/var/lib/portables/md")) in [(o.kind, o.path) for o in plan.ops]
    mroot.apply(plan)
    for gone in ("/var/lib/portables/md", "/etc/systemd/nspawn/md.nspawn"):
        assert not os.path.lexists(mroot.machine_path(gone))
    assert _ctl(mroot, "remove", "md")[2] == "Could not remove image: No image 'md' found.\n"


def test_remove_refuses_attached_images(mroot: SandboxRoot) -> None:
    assert _ctl(mroot, "--no-reload", "attach", "md", "minimal")[0] == 0
    plan = plan_remove(mroot.host, "md")
    assert plan.error is not None and not plan.ops
    assert plan.error.message == "Image '/etc/portables/md' is not detached, refusing."


def test_set_limit_is_always_refused(mroot: SandboxRoot) -> None:
    assert set_limit_error(mroot.host, "md").message == "Operation not supported"
    assert set_limit_error(mroot.host, "nosuch").message == "No image 'nosuch' found."
    assert pool_limit_error().message == "Quota is only supported on btrfs."
    assert (
        _ctl(mroot, "set-limit", "md", "1.5G")[2]
        == "Could not set limit: Operation not supported\n"
    )
    assert _ctl(mroot, "set-limit", "md", "bogus")[2] == "Failed to parse size: bogus\n"


def test_chmod_never_follows_a_link(mroot: SandboxRoot) -> None:
    os.symlink("/var/lib/portables/mr.raw", mroot.machine_path("/var/lib/portables/ln.raw"))
    with pytest.raises(SandboxError, match="chmod failed"):
        mroot.apply(Plan("read-only", "ln", (Op(OpKind.CHMOD, P("/var/lib/portables/ln.raw")),)))
    assert mroot.machine_path(RAW).stat().st_mode & 0o777 == 0o644


def test_a_read_only_plan_of_an_image_removed_since_is_refused(mroot: SandboxRoot) -> None:
    plan = Plan("read-only", "mr", (Op(OpKind.CHMOD, RAW, mode=0o444),))
    mroot.apply(plan_remove(mroot.host, "mr"))
    with pytest.raises(SandboxError, match="is gone"):
        mroot.apply(plan)
    assert not mroot.machine_path(RAW).exists()


def test_the_user_scope_is_refused_honestly(make_root: Callable[..., SandboxRoot]) -> None:
    root = make_root(version=262, samples=False)
    out, err = io.StringIO(), io.StringIO()
    assert run(["--user", "list"], root=root, stdout=out, stderr=err, prog="portablekit") == 1
    assert err.getvalue() == "portablekit: portabled's user scope (--user) is not simulated.\n"
    # emulating portablectl without a user bus: portablectl's own failure to connect
    rc, _, text = _ctl(root, "--user", "remove", "x")
    assert rc == 1 and text.startswith("Failed to connect to user scope bus via local transport")
