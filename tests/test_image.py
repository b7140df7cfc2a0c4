from __future__ import annotations

import os
from pathlib import PurePosixPath

import pytest

from portablekit.errors import PortabledError, UsageError
from portablekit.portabled.image import (
    PICK_DIR,
    PICK_RAW,
    ImageKind,
    discover_images,
    find_image,
    image_at_path,
    lookup_image,
    normalize_client_path,
    pick_version,
    vpick,
)
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd

P = PurePosixPath


def _img(root: SandboxRoot, path: str, raw: bool = False) -> None:
    if raw:
        root.write_file(path, b"\0" * 16)
    else:
        root.write_file(path + "/usr/lib/os-release", "ID=debian\n")


def test_search_order_and_kinds(make_root) -> None:  # type: ignore[no-untyped-def]
    root = make_root(samples=False)
    _img(root, "/usr/lib/portables/a")
    _img(root, "/var/lib/portables/a")
    _img(root, "/var/lib/portables/r.raw", raw=True)
    host = root.host
    a = find_image(host, "a")
    assert a is not None and a.path == P("/var/lib/portables/a") and a.kind is ImageKind.DIRECTORY
    r = find_image(host, "r")
    assert r is not None and r.kind is ImageKind.RAW and r.name == "r" and r.file_name == "r.raw"
    assert find_image(host, "nope") is None
    with pytest.raises(PortabledError) as e:
        lookup_image(host, "nope")
    assert e.value.message == "No image 'nope' found."


def test_252_stops_at_a_non_image_entry(make_root) -> None:  # type: ignore[no-untyped-def]
    root = make_root(252, samples=False)
    root.write_file("/etc/portables/x", "not an image")
    _img(root, "/var/lib/portables/x")
    assert find_image(root.host, "x").path == P("/var/lib/portables/x")  # type: ignore[union-attr]


def test_link_resolution_differs_by_version(make_root) -> None:  # type: ignore[no-untyped-def]
    for version, expected in ((257, "/etc/portables/foo"), (262, "/var/lib/portables/foo")):
        root = make_root(version, samples=False)
        _img(root, "/var/lib/portables/foo")
        os.makedirs(root.machine_path("/etc/portables"))
        os.symlink("/var/lib/portables/foo", root.machine_path("/etc/portables/foo"))
        assert str(find_image(root.host, "foo").path) == expected  # type: ignore[union-attr]


def test_image_at_path_errors(root: SandboxRoot) -> None:
    host = root.host
    with pytest.raises(PortabledError) as e:
        image_at_path(host, "relative")
    assert e.value.message == "Image name 'relative' is not valid or not a valid path."
    root.write_file("/opt/file.img", "x")
    with pytest.raises(PortabledError) as e:
        image_at_path(host, "/opt/file.img")
    assert e.value.dbus_error == "org.freedesktop.portable1.BadImageType"
    assert "not recognized" in e.value.message
    with pytest.raises(PortabledError) as e:
        image_at_path(host, "/opt/missing")
    assert e.value.message == "No such file or directory"


def test_vpick_picks_the_newest(make_root) -> None:  # type: ignore[no-untyped-def]
    root = make_root(samples=False)
    for v in ("1.9", "1.10", "1.2"):
        _img(root, f"/var/lib/portables/app.v/app_{v}")
    root.write_file("/var/lib/portables/app.v/app_9.raw", b"\0")
    app = P("/var/lib/portables/app.v")
    h257, h262 = (SandboxRoot(root.path, Systemd(v)).host for v in (257, 262))
    # 262 skips entries of the wrong kind: a lookup by name takes the newest directory
    assert vpick(h262, app) == app / "app_1.10"
    img = find_image(h262, "app")
    assert img is not None and img.path.name == "app_1.10"
    # 257 takes the newest entry first ("9.raw" is the newest version), then checks its kind:
    # by path any image kind will do, by name only a directory
    assert vpick(h257, app) == app / "app_9.raw"
    assert find_image(h257, "app") is None
    with pytest.raises(PortabledError) as e:
        pick_version(h257, app, [PICK_DIR])
    assert e.value.message == "Wrong medium type"
    assert pick_version(h262, app, [PICK_RAW]) == app / "app_9.raw"
    assert find_image(SandboxRoot(root.path, Systemd(252)).host, "app") is None


def test_vpick_dangling_and_empty(make_root) -> None:  # type: ignore[no-untyped-def]
    root = make_root(samples=False)
    _img(root, "/var/lib/portables/vk.v/vk_1")
    os.symlink("/nonexistent", root.machine_path("/var/lib/portables/vk.v/vk_2"))
    root.write_file("/var/lib/portables/vn.v/README", "no versions\n")
    for v in (257, 262):
        host = SandboxRoot(root.path, Systemd(v)).host
        for name in ("vk", "vn"):
            with pytest.raises(PortabledError) as e:
                image_at_path(host, f"/var/lib/portables/{name}.v")
            assert e.value.message == "No such file or directory"


def test_discover(root: SandboxRoot) -> None:
    names = [i.name for i in discover_images(root.host)]
    assert names == sorted(names) and "minimal" in names and "webapp_2.1" in names


def test_normalize_client_path(root: SandboxRoot) -> None:
    host = root.host
    assert normalize_client_path(host, "var/lib/portables/minimal") == "/var/lib/portables/minimal"
    assert normalize_client_path(host, "../../var/lib/portables/minimal/") == (
        "/var/lib/portables/minimal/"
    )
    with pytest.raises(UsageError) as e:
        normalize_client_path(host, "/nonexistent/path")
    assert e.value.message == (
        "Cannot normalize specified image path '/nonexistent/path': No such file or directory"
    )
    assert normalize_client_path(host, "/gone", must_exist=False) == "/gone"
