"""EROFS reader: plain, inline, chunked and compressed layouts, cross-checked with the tree,
fsck.erofs --extract and committed fixtures made by erofs-utils 1.8 (lzma, deflate, zstd)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path, PurePosixPath

import pytest
from test_raw_support import compare, make_tree, need, newer_erofs

from portablekit.raw import open_raw_image
from portablekit.raw._io import Reader
from portablekit.raw.erofs import ErofsSource
from portablekit.samples.raw import build_erofs
from portablekit.source import DirectorySource, FileKind

DATA = Path(__file__).parent / "data/raw"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tree(tmp_path_factory.mktemp("erotree") / "t")


# what erofs-utils 1.5 (Debian 12) can make
VARIANTS = {
    "plain": (None, []),
    "lz4": ("lz4", []),
    "lz4hc": ("lz4hc", []),
    "lz4hc-big-pcluster": ("lz4hc", ["-C65536"]),
    "lz4-ztailpacking": ("lz4", ["-Eztailpacking"]),
    "lz4-legacy-no-0padding": ("lz4", ["-Elegacy-compress"]),
    "chunked": (None, ["--chunksize=8192"]),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_variants_read_the_whole_tree(tree: Path, tmp_path: Path, variant: str) -> None:
    need("mkfs.erofs")
    comp, args = VARIANTS[variant]
    img = build_erofs(tree, tmp_path / "e.raw", compression=comp, extra_args=args)
    with open_raw_image(img) as raw:
        assert (raw.fstype, raw.image_policy) == ("erofs", "root=erofs:=absent")
        assert compare(raw.source, tree, times=True) > 300


def test_compressed_layouts_are_really_used(tree: Path, tmp_path: Path) -> None:
    need("mkfs.erofs")
    img = build_erofs(tree, tmp_path / "c.raw", compression="lz4hc")
    with open(img, "rb") as f:
        src = ErofsSource(Reader(f))
        layouts = {
            src._walk(PurePosixPath(p)).layout for p in ("/data/text.txt", "/usr/lib/os-release")
        }
        assert 3 in layouts  # compressed, compact indexes
        assert src._walk(PurePosixPath("/usr/lib/os-release")).layout == 2  # tail-packed inline


def test_matches_fsck_extract(tree: Path, tmp_path: Path) -> None:
    need("mkfs.erofs", "fsck.erofs")
    img = build_erofs(tree, tmp_path / "x.raw", compression="lz4hc", extra_args=["-C16384"])
    out = tmp_path / "extracted"
    subprocess.run(["fsck.erofs", f"--extract={out}", str(img)], check=True, capture_output=True)
    with open_raw_image(img) as raw:
        compare(raw.source, out, modes=False)  # fsck.erofs drops the setuid bit


@pytest.mark.parametrize(
    "args",
    [
        ["-zlzma"],
        ["-zlzma,level=9", "-C131072"],
        ["-zdeflate"],
        ["-zzstd"],
        ["-zlz4hc", "-Efragments"],
        ["-zlzma", "-Eall-fragments"],
        ["-zlz4hc", "-Ededupe"],
        ["-zlz4hc", "-Eztailpacking,fragments"],
    ],
    ids=lambda a: "+".join(a),
)
def test_newer_erofs_utils(tree: Path, tmp_path: Path, args: list[str]) -> None:
    mkfs = newer_erofs()
    if mkfs is None:
        pytest.skip(
            "needs erofs-utils 1.8+ (lzma/deflate/zstd); point PORTABLEKIT_MKFS_EROFS at one"
        )
    img = tmp_path / "n.raw"
    subprocess.run(
        [mkfs, "--quiet", "--all-root", "-T1700000000", *args, str(img), str(tree)], check=True
    )
    with open_raw_image(img) as raw:
        compare(raw.source, tree)


@pytest.mark.parametrize(
    "name", sorted(p.name for p in DATA.glob("*.erofs") if not p.name.startswith("tiny-"))
)
def test_committed_fixtures(name: str) -> None:
    manifest = json.loads((DATA / "manifest.json").read_text())
    with open_raw_image(DATA / name) as raw:
        src = raw.source
        seen = {str(p) for p, _ in src.walk()}
        assert seen == set(manifest)
        for path, (kind, *rest) in manifest.items():
            st = src.lstat(PurePosixPath(path))
            assert st.kind is FileKind(kind), path
            if kind == "file":
                data = src.read_bytes(PurePosixPath(path))
                assert (hashlib.sha256(data).hexdigest(), len(data)) == (rest[0], rest[1]), path
                if len(data) > 5000:  # pieces from the middle of compressed clusters
                    for off in (1, 4095, 4096, len(data) // 2, len(data) - 3):
                        assert (
                            src.read_bytes(PurePosixPath(path), off, 4000) == data[off : off + 4000]
                        )
            elif kind == "symlink":
                assert src.readlink(PurePosixPath(path)) == rest[0]


def test_large_directory_binary_search(tmp_path: Path) -> None:
    need("mkfs.erofs")
    big = tmp_path / "t/big"
    big.mkdir(parents=True)
    names = [f"n{i:05d}-{'y' * (i % 50)}" for i in range(4000)]
    for n in names:
        (big / n).write_text(n)
    img = build_erofs(tmp_path / "t", tmp_path / "b.raw")
    with open(img, "rb") as f:
        src = ErofsSource(Reader(f))
        node = src._walk(PurePosixPath("/big"))
        assert src._nblocks(node) > 8
        for n in (names[0], names[2500], names[-1]):
            assert src.read_bytes(PurePosixPath("/big") / n) == n.encode()
        assert src._dirs.get(node.ident) is None  # found without listing the directory
        assert (
            not src.exists("/big/n99999") and not src.exists("/big/a") and not src.exists("/big/z")
        )
        assert sorted(src.listdir(PurePosixPath("/big"))) == sorted(names)
        assert DirectorySource(tmp_path / "t").listdir(PurePosixPath("/big"))
