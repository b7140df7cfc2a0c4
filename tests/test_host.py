"""The host as planning reads it, and as pending operations leave it (the overlay)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from portablekit.portabled.install import unit_file_exists
from portablekit.sandbox import SandboxRoot
from portablekit.source import FileKind
from portablekit.versions import Systemd


def test_active_units_file(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(257))
    root.write_file(
        "/run/portablekit/active-units", "a.service\nb@x.service reloading\n\nc.service inactive\n"
    )
    host = root.host
    assert host.active_units() == {
        "a.service": "active",
        "b@x.service": "reloading",
        "c.service": "inactive",
    }
    assert host.unit_is_active("a.service") and not host.unit_is_active("c.service")
    assert host.unit_is_active("b@.service")  # a running instance makes the template active


def test_overlay_sees_pending_creations_and_removals(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(257))
    root.write_file("/srv/a/one", "1")
    root.write_file("/srv/a/two", "2")
    host = root.host
    pending: dict[PurePosixPath, FileKind | None] = {
        PurePosixPath("/srv/a/one"): None,
        PurePosixPath("/srv/a/new"): FileKind.DIR,
        PurePosixPath("/srv/a/new/f"): FileKind.FILE,
    }
    view = host.overlay(pending)
    assert view.kind("/srv/a/one") is None and not view.exists("/srv/a/one")
    assert view.kind("/srv/a/two") is FileKind.FILE  # untouched: read through
    assert view.kind("/srv/a/new") is FileKind.DIR and view.exists("/srv/a/new/f")
    assert view.listdir("/srv/a") == ["new", "two"]
    assert view.listdir("/srv/a/new") == ["f"]
    assert view.resolve("/srv/a/new/f") == PurePosixPath("/srv/a/new/f")
    # the host itself is unchanged, and so is the disk
    assert host.listdir("/srv/a") == ["one", "two"]
    assert sorted(p.name for p in root.machine_path("/srv/a").iterdir()) == ["one", "two"]


def test_overlay_removal_hides_everything_below(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(257))
    root.write_file("/srv/a/sub/f", "x")
    view = root.host.overlay({PurePosixPath("/srv/a"): None})
    assert view.kind("/srv/a/sub") is None and view.kind("/srv/a/sub/f") is None
    assert view.listdir("/srv/a") == [] and view.listdir("/srv/a/sub") == []
    assert view.resolve("/srv/a/sub") == PurePosixPath("/srv/a/sub")
    # an overlay of an overlay: the newer pending changes win
    again = view.overlay({PurePosixPath("/srv/a"): FileKind.DIR})
    assert again.kind("/srv/a") is FileKind.DIR and again.kind("/srv/a/sub") is None


def test_overlay_reads_its_mapping_live(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(257))
    pending: dict[PurePosixPath, FileKind | None] = {}
    view = root.host.overlay(pending)
    assert not unit_file_exists(view, "portablekit-new.service")
    pending[PurePosixPath("/etc/systemd/system.attached/portablekit-new.service")] = FileKind.FILE
    assert unit_file_exists(view, "portablekit-new.service")  # a planner's own creations count
    assert view.systemd == root.systemd and "overlay(1 pending)" in repr(view)
