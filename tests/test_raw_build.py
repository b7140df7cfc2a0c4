"""Image builders: reproducible bytes, the real tools' tables read back, missing tools named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from test_raw_support import make_tree, need

from portablekit.raw import Designator, NoRootForRootHashError, open_raw_image
from portablekit.samples import raw as build_mod
from portablekit.samples.raw import (
    GptPartition,
    MbrPartition,
    MissingToolError,
    build_erofs,
    build_ext4,
    build_gpt,
    build_image,
    build_mbr,
    build_squashfs,
    find_tool,
    gpt_type,
)
from portablekit.versions import Systemd


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tree(tmp_path_factory.mktemp("btree") / "t", big=False)


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("tool", "builder"),
    [("mksquashfs", build_squashfs), ("mkfs.ext4", build_ext4), ("mkfs.erofs", build_erofs)],
)
def test_reproducible(tree: Path, tmp_path: Path, tool: str, builder: object) -> None:
    need(tool)
    a = builder(tree, tmp_path / "a.raw")  # type: ignore[operator]
    b = builder(tree, tmp_path / "b.raw")  # type: ignore[operator]
    assert sha(a) == sha(b)


@pytest.mark.parametrize("fstype", ["squashfs", "ext4", "erofs"])
@pytest.mark.parametrize("table", [None, "gpt", "dos"])
def test_build_image_combinations(
    tree: Path, tmp_path: Path, fstype: str, table: str | None
) -> None:
    need({"squashfs": "mksquashfs", "ext4": "mkfs.ext4", "erofs": "mkfs.erofs"}[fstype])
    if table:
        need("sfdisk")
    img = build_image(tree, tmp_path / "i.raw", fstype=fstype, table=table)
    assert not list(tmp_path.glob("*.tmp"))
    with open_raw_image(img) as raw:
        assert (raw.fstype, raw.table) == (fstype, table)
        assert raw.source.read_file("/etc/os-release").startswith(b"ID=debian")
        if table == "gpt":
            assert (
                raw.partition.label == "root-x86-64"
                and raw.partitions[0].type_name == "root-x86-64"
            )


def test_gpt_with_sfdisk_read_back(tree: Path, tmp_path: Path) -> None:
    need("sfdisk", "mksquashfs")
    root = build_squashfs(tree, tmp_path / "root.sq")
    usr = build_squashfs(tree / "usr", tmp_path / "usr.sq")
    disk = build_gpt(
        tmp_path / "d.raw",
        [
            GptPartition(root, gpt_type("root", "arm64"), "root-arm64"),
            GptPartition(root, gpt_type("root"), "root-x86-64", attrs=(60,)),
            GptPartition(usr, gpt_type("usr"), "usr-x86-64", attrs=(59,)),
            GptPartition(None, gpt_type("root-verity"), "verity"),
        ],
    )
    assert sha(disk) == sha(build_gpt(tmp_path / "again.raw", [
        GptPartition(root, gpt_type("root", "arm64"), "root-arm64"),
        GptPartition(root, gpt_type("root"), "root-x86-64", attrs=(60,)),
        GptPartition(usr, gpt_type("usr"), "usr-x86-64", attrs=(59,)),
        GptPartition(None, gpt_type("root-verity"), "verity"),
    ]))  # fmt: skip
    with open_raw_image(disk, systemd=Systemd(257)) as raw:
        assert [p.type_name for p in raw.partitions] == [
            "root-arm64", "root-x86-64", "usr-x86-64", "root-x86-64-verity",
        ]  # fmt: skip
        assert raw.partition.number == 2 and not raw.partition.rw
        assert raw.used[Designator.USR].growfs
        assert [p.number for p in raw.verity] == [4]
        assert raw.source.read_file("/usr/lib/os-release").startswith(b"ID=debian")
    # on arm64 the arm64 root wins and the x86-64 /usr does not match it: 252 drops the /usr,
    # 257 refuses the image
    with open_raw_image(disk, arch="arm64", systemd=Systemd(252)) as raw:
        assert raw.partition.number == 1 and Designator.USR not in raw.used
    with pytest.raises(NoRootForRootHashError):
        open_raw_image(disk, arch="arm64", systemd=Systemd(257))


def test_mbr_with_sfdisk(tree: Path, tmp_path: Path) -> None:
    need("sfdisk", "mksquashfs")
    fs = build_squashfs(tree, tmp_path / "fs.sq")
    disk = build_mbr(tmp_path / "m.raw", [MbrPartition(None, 0x0C, False), MbrPartition(fs)])
    with open_raw_image(disk) as raw:
        assert raw.table == "dos" and raw.partition.number == 2
        assert [p.type_name for p in raw.partitions] == ["0x0c", "0x83"]


def test_missing_tool_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(build_mod, "_SBIN", ())
    with pytest.raises(MissingToolError) as e:
        find_tool("mkfs.erofs")
    assert e.value.tool == "mkfs.erofs" and e.value.package == "erofs-utils"
    assert "apt-get install erofs-utils" in str(e.value)
    with pytest.raises(MissingToolError, match="squashfs-tools"):
        build_squashfs(tmp_path, tmp_path / "x.raw")
    assert isinstance(e.value, FileNotFoundError)


def test_gpt_types() -> None:
    assert str(gpt_type("root")) == "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
    assert str(gpt_type("usr", "arm64")) == "b0e01050-ee5f-4390-949a-9101b17104e9"
    assert str(gpt_type("esp", None)) == "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
    assert str(gpt_type("generic")) == "0fc63daf-8483-4772-8e79-3d69d8477de4"
    with pytest.raises(ValueError, match="architecture"):
        gpt_type("root", "vax")
