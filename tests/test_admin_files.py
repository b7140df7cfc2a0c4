"""What detach does to entries an admin put in /etc/portables: removed as portabled removes them
(the recordings), kept with --fixed, which removes only what an attach made there."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import PurePosixPath

import pytest

from portablekit.cli.portablectl import run
from portablekit.portabled.host import MADE_BY_ATTACH
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd


def _ctl(root: SandboxRoot, *argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = run(["--no-reload", *argv], root=root, stdout=out, stderr=err)
    return rc, err.getvalue()


def _admin_link(root: SandboxRoot, name: str, target: str) -> None:
    (root.path / "etc/portables").mkdir(exist_ok=True)
    os.symlink(target, root.path / "etc/portables" / name)


@pytest.mark.parametrize("version", [252, 257, 262])
def test_an_admins_link_goes_upstream_and_stays_with_fixed(
    make_root: Callable[..., SandboxRoot], version: int
) -> None:
    for fixed in (False, True):
        root = make_root(version)
        root.systemd = Systemd(version, fixed=fixed)
        # the admin's own link of that name: attach's link step stops there silently
        _admin_link(root, "minimal", "/var/lib/portables/webapp_2.1")
        rc, err = _ctl(root, "attach", "/var/lib/portables/minimal")
        assert rc == 0 and "/etc/portables/minimal" not in err, err
        rc, err = _ctl(root, "detach", "/var/lib/portables/minimal")
        assert rc == 0
        link = root.path / "etc/portables/minimal"
        if fixed:
            assert os.readlink(link) == "/var/lib/portables/webapp_2.1"
            assert "/etc/portables/minimal" not in err
        else:  # portabled removes whatever link is there (x-links in the recordings)
            assert not os.path.lexists(link)
            assert "Removed /etc/portables/minimal." in err


@pytest.mark.parametrize("version", [257, 262])
def test_an_admins_image_directory_is_deleted_upstream_and_kept_with_fixed(
    make_root: Callable[..., SandboxRoot], version: int
) -> None:
    for fixed in (False, True):
        root = make_root(version)
        root.systemd = Systemd(version, fixed=fixed)
        # an image the admin put into /etc/portables itself (a search-path directory)
        (root.path / "etc/portables").mkdir()
        shutil.copytree(root.path / "var/lib/portables/minimal", root.path / "etc/portables/d")
        assert _ctl(root, "attach", "/etc/portables/d", "minimal")[0] == 0
        rc, err = _ctl(root, "detach", "/etc/portables/d")
        assert rc == 0
        if fixed:
            assert (root.path / "etc/portables/d/usr/lib/os-release").is_file()
        else:  # 257 and 262 rm -rf it (search-path-locations in the recordings)
            assert not os.path.lexists(root.path / "etc/portables/d")
            assert "Removed /etc/portables/d." in err


@pytest.mark.parametrize("copy", ["auto", "mixed"])
def test_with_fixed_what_attach_made_still_goes(
    make_root: Callable[..., SandboxRoot], copy: str
) -> None:
    root = make_root(262)
    root.systemd = Systemd(262, fixed=True)
    assert _ctl(root, f"--copy={copy}", "attach", "minimal")[0] == 0
    made = [json.loads(line) for line in (root.host.read_text(MADE_BY_ATTACH) or "").splitlines()]
    assert [m["path"] for m in made] == ["/etc/portables/minimal"]
    assert root.host.made_by_attach(PurePosixPath("/etc/portables/minimal"))
    rc, err = _ctl(root, "detach", "minimal")
    assert rc == 0 and "Removed /etc/portables/minimal." in err
    assert not os.path.lexists(root.path / "etc/portables/minimal")
    assert (root.host.read_text(MADE_BY_ATTACH) or "") == ""  # forgotten with it


def test_with_fixed_an_entry_an_admin_put_in_place_of_attachs_stays(
    make_root: Callable[..., SandboxRoot],
) -> None:
    for replace_with in ("link", "directory"):
        root = make_root(257)
        root.systemd = Systemd(257, fixed=True)
        assert _ctl(root, "attach", "minimal")[0] == 0
        link = root.path / "etc/portables/minimal"
        os.unlink(link)  # the admin puts an entry of their own in its place
        if replace_with == "link":
            os.symlink("/srv/elsewhere", link)
        else:
            link.mkdir()
        assert not root.host.made_by_attach(PurePosixPath("/etc/portables/minimal"))
        assert _ctl(root, "detach", "/var/lib/portables/minimal")[0] == 0
        assert os.path.lexists(link)
