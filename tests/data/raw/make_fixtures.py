"""Regenerates the small fixtures in this directory (run by hand, not by the tests).

* ``tiny-*.squashfs``: four tiny file systems (os-release "Tiny A/B/C", and a usr tree "Tiny
  Usr") that the partition-table tests put into hand-made GPT and MBR images, so those tests
  need no tools at all.
* ``tiny-a.ext4.gz``, ``tiny-a.erofs``, ``tiny-a-lz4.erofs``: the "Tiny A" tree with a
  compressible text and a long symlink, the seeds of the bad-input and fuzz tests.
* ``*.erofs``: the tests build most EROFS images themselves, but Debian 12's erofs-utils (1.5)
  only compresses with lz4. These were made with erofs-utils 1.8.6 (Debian 13) so that lzma,
  deflate and zstd pclusters, fragments, tail-packing and deduplication are tested everywhere;
  ``manifest.json`` records what each must contain.

    MKFS_EROFS=/path/to/mkfs.erofs-1.8 python tests/data/raw/make_fixtures.py
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
IMAGES = {
    "lzma-frag.erofs": ["-zlzma", "-Efragments,ztailpacking"],
    "lzma-big.erofs": ["-zlzma", "-C65536"],
    "deflate.erofs": ["-zdeflate", "-Eztailpacking"],
    "zstd-dedupe.erofs": ["-zzstd", "-Ededupe"],
    "lz4hc-allfrag.erofs": ["-zlz4hc", "-Eall-fragments"],
}


def make_tree(root: Path) -> None:
    rnd = random.Random(7)
    (root / "usr/lib/systemd/system").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "usr/lib/os-release").write_text(
        'ID=debian\nVERSION_ID=12\nPRETTY_NAME="EROFS Fixture"\n'
    )
    os.symlink("../usr/lib/os-release", root / "etc/os-release")
    for i in range(40):
        (root / f"usr/lib/systemd/system/fx{i:02d}.service").write_text(
            f"[Unit]\nDescription=fixture {i}\n\n[Service]\nExecStart=/usr/bin/fx {i}\n"
        )
    words = ["portable", "service", "image", "erofs", "unit", "systemd", "raw", "tree"]
    text = " ".join(rnd.choice(words) for _ in range(20_000)).encode()
    (root / "usr/share").mkdir()
    (root / "usr/share/text.txt").write_bytes(text)
    (root / "usr/share/copy.txt").write_bytes(text[:60_000])  # dedupe fodder
    (root / "usr/share/random.bin").write_bytes(rnd.randbytes(8_000))
    (root / "usr/share/small.txt").write_bytes(b"tail " * 300)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (1700000000, 1700000000), follow_symlinks=False)


def manifest(root: Path) -> dict[str, list[str | int]]:
    out: dict[str, list[str | int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath, name)
            rel = "/" + str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ["symlink", os.readlink(p)]
            elif p.is_dir():
                out[rel] = ["dir", ""]
            else:
                out[rel] = ["file", hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size]
    return out


def tiny_tree(root: Path, pretty: str, *, usr: bool = False) -> None:
    lib = root / "lib" if usr else root / "usr/lib"
    (lib / "systemd/system").mkdir(parents=True)
    (lib / "os-release").write_text(f'ID=debian\nVERSION_ID=12\nPRETTY_NAME="{pretty}"\n')
    (lib / "systemd/system/tiny.service").write_text("[Service]\nExecStart=/usr/bin/tiny\n")
    if not usr:
        for d in ("etc", "efi", "home", "var", "boot"):
            (root / d).mkdir()
        os.symlink("../usr/lib/os-release", root / "etc/os-release")


def main() -> None:
    sys.path.insert(0, str(HERE.parents[2]))
    from portablekit.samples.raw import build_erofs, build_ext4, build_squashfs, set_tree_times

    with tempfile.TemporaryDirectory() as tmp:
        tinies = (("a", "Tiny A"), ("b", "Tiny B"), ("c", "Tiny C"), ("usr", "Tiny Usr"))
        for name, pretty in tinies:
            t = Path(tmp) / f"tiny-{name}"
            tiny_tree(t, pretty, usr=name == "usr")
            set_tree_times(t)
            build_squashfs(t, HERE / f"tiny-{name}.squashfs")
        t = Path(tmp) / "seed"
        tiny_tree(t, "Tiny A")
        rnd = random.Random(3)
        (t / "usr/share").mkdir()
        words = " ".join(rnd.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(4000))
        (t / "usr/share/words.txt").write_text(words)
        os.symlink("/" + "x/" * 40, t / "etc/long")
        set_tree_times(t)
        ext4 = Path(tmp) / "tiny-a.ext4"
        build_ext4(t, ext4, size=256 << 10, block_size=1024,
                   extra_args=["-N", "32", "-O", "^has_journal,^resize_inode"])  # fmt: skip
        (HERE / "tiny-a.ext4.gz").write_bytes(gzip.compress(ext4.read_bytes(), mtime=0))
        build_erofs(t, HERE / "tiny-a.erofs")
        lz4 = HERE / "tiny-a-lz4.erofs"
        build_erofs(t, lz4, compression="lz4hc", extra_args=["-Eztailpacking"])
    mkfs = os.environ.get("MKFS_EROFS")
    if not mkfs:
        print("MKFS_EROFS not set: EROFS fixtures left as they are", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        make_tree(tree)
        for name, args in IMAGES.items():
            subprocess.run(
                [mkfs, "--quiet", "--all-root", "-T1700000000",
                 "-U11111111-2222-3333-4444-555555555555", *args, str(HERE / name), str(tree)],
                check=True,
            )  # fmt: skip
        (HERE / "manifest.json").write_text(
            json.dumps(manifest(tree), indent=1, sort_keys=True) + "\n"
        )
    print("written:", ", ".join(IMAGES), file=sys.stderr)


if __name__ == "__main__":
    main()
