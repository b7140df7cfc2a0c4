"""squashfs reader: every compressor and layout, cross-checked with the tree and unsquashfs."""

from __future__ import annotations

import os
import zlib
from pathlib import Path, PurePosixPath

import pytest
from test_raw_support import compare, make_tree, mode_string, need, run

from portablekit.errors import CorruptImageError
from portablekit.raw import open_raw_image
from portablekit.raw._io import Reader
from portablekit.raw.squashfs import SquashfsSource
from portablekit.samples.raw import build_squashfs


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tree(tmp_path_factory.mktemp("sqtree") / "t")


@pytest.fixture(scope="module")
def gzip_image(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    need("mksquashfs")
    return build_squashfs(tree, tmp_path_factory.mktemp("sq") / "gzip.raw")


@pytest.mark.parametrize("comp", ["gzip", "xz", "lzma", "lzo", "lz4", "zstd"])
def test_every_compressor_reads_the_whole_tree(tree: Path, tmp_path: Path, comp: str) -> None:
    need("mksquashfs")
    img = build_squashfs(tree, tmp_path / f"{comp}.raw", compression=comp)
    with open_raw_image(img) as raw:
        assert (raw.fstype, raw.table, raw.image_policy) == (
            "squashfs",
            None,
            "root=squashfs:=absent",
        )
        assert compare(raw.source, tree) > 300
        assert raw.source.read_file("/etc/os-release").startswith(b"ID=debian")


@pytest.mark.parametrize(
    "args",
    [
        ["-b", "4096", "-no-fragments"],  # many blocks, no tail in fragments
        ["-always-use-fragments", "-b", "16384"],
        ["-noI", "-noD", "-noF"],  # uncompressed metadata and data
        ["-no-duplicates"],
    ],
    ids=["blocks-4k-nofrag", "always-frag", "uncompressed", "no-dup"],
)
def test_layouts(tree: Path, tmp_path: Path, args: list[str]) -> None:
    need("mksquashfs")
    img = build_squashfs(tree, tmp_path / "l.raw", extra_args=args)
    with open_raw_image(img) as raw:
        compare(raw.source, tree)


def test_matches_unsquashfs_listing_and_cat(gzip_image: Path) -> None:
    need("unsquashfs")
    listing = run("unsquashfs", "-lln", "-d", "", str(gzip_image)).decode(
        "utf-8", "surrogateescape"
    )
    with open_raw_image(gzip_image) as raw:
        src = raw.source
        n = 0
        for line in listing.splitlines():
            fields = line.split(None, 5)
            perms, owner, size, _date, _time, rest = (*fields, "")[:6]
            path, _, target = rest.partition(" -> ")
            p = PurePosixPath(path or "/")
            st = src.lstat(p)
            assert (
                mode_string(
                    st.mode | {"d": 0o40000, "-": 0o100000, "l": 0o120000, "p": 0o10000}[perms[0]]
                )
                == perms
            ), p
            assert owner == "0/0"
            if perms[0] == "-":
                assert st.size == int(size), p
            if perms[0] == "l":
                assert src.readlink(p) == target
            n += 1
        assert n > 300
        for path in (
            "usr/lib/os-release",
            "data/text.txt",
            "usr/lib/systemd/system/svc123.service",
        ):
            assert run("unsquashfs", "-cat", str(gzip_image), path) == src.read_bytes(
                PurePosixPath("/" + path)
            )


def test_large_directory_uses_the_directory_index(tmp_path: Path) -> None:
    need("mksquashfs")
    big = tmp_path / "t/big"
    big.mkdir(parents=True)
    names = [f"entry-{i:05d}-{'x' * (i % 40)}" for i in range(3000)]
    for name in names:
        (big / name).write_text(name)
    img = build_squashfs(tmp_path / "t", tmp_path / "big.raw")
    with open(img, "rb") as f:
        src = SquashfsSource(Reader(f, label="big.raw"))
        node = src._walk(PurePosixPath("/big"))
        assert node.extended and node.index_count > 0
        for name in (names[0], names[1234], names[-1]):  # looked up through the index only
            assert src.read_bytes(PurePosixPath("/big") / name) == name.encode()
        assert src._dirs.get(node.ident) is None
        assert not src.exists("/big/entry-99999")
        assert not src.exists("/big/a") and not src.exists("/big/zzz")
        assert sorted(src.listdir(PurePosixPath("/big"))) == sorted(names)


def test_extended_inodes_with_xattrs(tree: Path, tmp_path: Path) -> None:
    need("mksquashfs")
    t = tmp_path / "x"
    (t / "d").mkdir(parents=True)
    (t / "d/f").write_text("with xattr\n")
    try:
        os.setxattr(t / "d/f", "user.test", b"1")
        os.setxattr(t / "d", "user.test", b"2")
    except OSError:
        pytest.skip("the temporary file system has no user xattrs")
    img = build_squashfs(t, tmp_path / "x.raw", extra_args=["-xattrs"])
    with open(img, "rb") as f:
        src = SquashfsSource(Reader(f))
        assert src._walk(PurePosixPath("/d/f")).extended
        assert src.read_file("/d/f") == b"with xattr\n"
        assert src.listdir(PurePosixPath("/d")) == ["f"]


def test_corrupt_data_block_that_inflates_too_far(tmp_path: Path) -> None:
    need("mksquashfs")
    t = tmp_path / "t"
    t.mkdir()
    rnd = __import__("random").Random(1)
    text = "".join(rnd.choice("abcdefgh ") for _ in range(4096)).encode()
    (t / "f").write_bytes(text)
    img = build_squashfs(t, tmp_path / "c.raw", block_size=4096, extra_args=["-no-fragments"])
    data = bytearray(img.read_bytes())
    comp = zlib.compress(text, 9)
    at = data.find(comp)
    assert at > 0
    bomb = zlib.compress(bytes(1 << 20), 9)
    assert len(bomb) <= len(comp)
    data[at : at + len(comp)] = bomb + bytes(len(comp) - len(bomb))
    img.write_bytes(bytes(data))
    with open_raw_image(img) as raw, pytest.raises(CorruptImageError) as e:
        raw.source.read_file("/f")
    assert "more than" in str(e.value) and e.value.image == str(img)
    assert "block 0" in e.value.structure
