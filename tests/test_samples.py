"""The built-in samples: deterministic trees, laid into sandbox roots, raw images of them."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

import pytest

from portablekit.portabled.dissect import dissect
from portablekit.portabled.image import discover_images
from portablekit.samples import (
    DEFAULT_SAMPLES,
    SAMPLE_MTIME,
    SAMPLES,
    build_raw_sample,
    install_samples,
    sample_sandbox,
    sample_source,
)
from portablekit.samples.raw import write_tree
from portablekit.sandbox import SandboxRoot
from portablekit.sandbox.fs import SYSCALLS
from portablekit.source import FileKind
from portablekit.versions import Systemd


def test_samples_are_deterministic(tmp_path: Path) -> None:
    a = write_tree(sample_source("webapp_2.1"), tmp_path / "a")
    b = write_tree(sample_source("webapp_2.1"), tmp_path / "b")
    listing = sorted(str(p.relative_to(a)) for p in a.rglob("*"))
    assert listing == sorted(str(p.relative_to(b)) for p in b.rglob("*"))
    for rel in listing:
        pa, pb = a / rel, b / rel
        assert os.lstat(pa).st_mode == os.lstat(pb).st_mode
        if pa.is_file() and not pa.is_symlink():
            assert pa.read_bytes() == pb.read_bytes()
            assert os.stat(pa).st_mtime == SAMPLE_MTIME
    assert os.access(a / "usr/bin/webappd", os.X_OK)
    for name in SAMPLES:
        assert sample_source(name).exists("/usr/lib/systemd/system") or name.startswith("broken")


@pytest.mark.parametrize(
    ("fstype", "table"), [("squashfs", None), ("erofs", None), ("ext4", "gpt")]
)
def test_raw_samples_attach_like_the_directories(
    tmp_path: Path, fstype: str, table: str | None
) -> None:
    import shutil

    tool = {"squashfs": "mksquashfs", "erofs": "mkfs.erofs", "ext4": "mkfs.ext4"}[fstype]
    if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
        pytest.skip(f"{tool} is not installed (make tools installs it)")
    root = SandboxRoot.init(tmp_path / "r", Systemd(262))
    img = build_raw_sample(
        "minimal", root.machine_path("/var/lib/portables/minimal.raw"), fstype=fstype, table=table
    )
    assert img.is_file()
    raw = dissect(root.host, "minimal", matches=["minimal"])
    assert [u.name for u in raw.units] == [
        "minimal-worker.service",
        "minimal.service",
        "minimal.socket",
    ]
    assert raw.base.policy is not None


def test_install_samples_lays_the_sources_without_a_temporary_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(257))

    def no_temporary_files(*args: object, **kwargs: object) -> None:
        raise AssertionError("install_samples made a temporary directory")

    made: list[str] = []

    def temporary_trees(call: str, changes: bool, name: str) -> None:
        # the one directory made per image: where its tree is built, next to its place
        if call == "mkdir" and name.startswith(".#"):
            made.append(name)

    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_temporary_files)
    monkeypatch.setattr(tempfile, "mkdtemp", no_temporary_files)
    monkeypatch.setattr(shutil, "copytree", no_temporary_files)
    monkeypatch.setattr(SYSCALLS, "hooks", [temporary_trees])
    names = ["webapp_2.1", "broken-dangling"]
    assert install_samples(root, names, at="/srv") == [
        PurePosixPath("/srv/webapp_2.1"),
        PurePosixPath("/srv/broken-dangling"),
    ]
    assert len(made) == 2 and all(m.startswith(f".#{n}.") for m, n in zip(made, names, strict=True))
    assert sorted(os.listdir(root.machine_path("/srv"))) == sorted(names)
    for name in names:
        src = sample_source(name)
        top = root.machine_path(f"/srv/{name}")
        for p, st in src.walk():
            laid = top.joinpath(*p.parts[1:])
            assert os.lstat(laid).st_mode & 0o7777 == st.mode & 0o7777, p
            if st.kind is FileKind.SYMLINK:
                assert os.readlink(laid) == src.readlink(p)
            else:
                assert os.lstat(laid).st_mtime == SAMPLE_MTIME
            if st.kind is FileKind.FILE:
                assert laid.read_bytes() == src.read_bytes(p)
    with pytest.raises(TypeError, match="needs a SandboxRoot, not PosixPath"):
        install_samples(root.path)  # type: ignore[arg-type]


def test_sample_sandbox_in_one_line(tmp_path: Path) -> None:
    with sample_sandbox(systemd=Systemd(262)) as lab:
        path = lab.root.path
        assert lab.root.systemd == Systemd(262)
        assert [p.name for p in lab.images] == list(DEFAULT_SAMPLES)
        assert [i.name for i in discover_images(lab.root.host)] == sorted(DEFAULT_SAMPLES)
    assert not path.exists()
    kept = sample_sandbox(tmp_path / "here", names=["minimal"])
    kept.root.close()  # a root at a path of one's own stays
    assert kept.images == (PurePosixPath("/var/lib/portables/minimal"),)
    assert (tmp_path / "here/var/lib/portables/minimal/usr/lib/os-release").is_file()


def test_docstring_examples() -> None:
    import doctest

    import portablekit.samples

    result = doctest.testmod(portablekit.samples)
    assert result.failed == 0 and result.attempted > 0
