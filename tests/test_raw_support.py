"""Shared helpers for the raw-image tests (no tests here): a rich sample tree, the
comparison of a reader against the tree it was built from, and tool checks.

Imported by the ``test_raw_*`` modules; the fixtures are re-exported there.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import struct
import subprocess
import uuid
import zlib
from pathlib import Path, PurePosixPath

import pytest

from portablekit.errors import PortableKitError
from portablekit.raw import open_raw_image
from portablekit.samples.raw import FIXED_TIME, MissingToolError, find_tool, set_tree_times
from portablekit.source import DirectorySource, FileKind, ImageSource

#: non-UTF-8 file name bytes: the readers must round-trip them
ODD_NAME = os.fsdecode(b"caf\xe9-\xff.txt")
UNITS = 300


def need(*tools: str) -> None:
    """Skip the test, naming the Debian package, when a build tool is missing."""
    for tool in tools:
        try:
            find_tool(tool)
        except MissingToolError as e:
            pytest.skip(str(e))


def make_tree(root: Path, *, big: bool = True) -> Path:
    """A tree with what images hold: os-release and units (a large directory), links of every
    kind, empty and sparse files, odd names and modes, a hard link, a fifo."""
    rnd = __import__("random").Random(4)
    units = root / "usr/lib/systemd/system"
    units.mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "usr/bin").mkdir()
    (root / "empty").mkdir()
    (root / "data").mkdir()
    (root / "usr/lib/os-release").write_text('ID=debian\nVERSION_ID=12\nPRETTY_NAME="Raw Test"\n')
    os.symlink("../usr/lib/os-release", root / "etc/os-release")
    for i in range(UNITS):
        (units / f"svc{i:03d}.service").write_text(
            f"[Unit]\nDescription=service {i}\n\n[Service]\nExecStart=/usr/bin/foo {i}\n"
        )
    os.symlink("svc000.service", units / "alias.service")
    (units / "foo.service.d").mkdir()
    (units / "foo.service.d/10-env.conf").write_text("[Service]\nEnvironment=A=1\n")
    (units / "sockets.target.wants").mkdir()
    os.symlink("../svc001.service", units / "sockets.target.wants/svc001.service")
    os.symlink("/usr/lib/os-release", root / "etc/abs-link")
    os.symlink("/" + "long/" * 30 + "target", root / "etc/long-link")  # > 60 bytes: slow link
    os.symlink("/dev/null", root / "etc/masked.service")
    os.symlink("missing", root / "etc/dangling")
    (root / "usr/bin/foo").write_text("#!/bin/sh\necho foo\n")
    (root / "usr/bin/foo").chmod(0o755)
    (root / "usr/bin/suid").write_bytes(b"\x7fELF")
    (root / "usr/bin/suid").chmod(0o4711)
    (root / "data/empty-file").write_bytes(b"")
    (root / "data/secret").write_text("s\n")
    (root / "data/secret").chmod(0o600)
    (root / "data" / ODD_NAME).write_text("odd name\n")
    (root / "data/unicode-\u00e9t\u00e9.txt").write_text("unicode\n")
    os.link(root / "data/secret", root / "data/hardlink")
    os.mkfifo(root / "data/fifo")
    (root / "data/nested/a/b/c").mkdir(parents=True)
    (root / "data/nested/a/b/c/deep.txt").write_text("deep\n")
    if big:
        (root / "data/random.bin").write_bytes(rnd.randbytes(400_000))
        text = "".join(f"line {i} {rnd.random()}\n" for i in range(12_000))
        (root / "data/text.txt").write_text(text)
        with open(root / "data/sparse.bin", "wb") as f:
            f.truncate(2_000_000)
            f.seek(1_000_000)
            f.write(b"middle")
        with open(root / "data/holes.bin", "wb") as f:  # many extents: a deep extent tree
            for i in range(0, 1600, 2):
                f.seek(i * 1024)
                f.write(rnd.randbytes(1024))
    set_tree_times(root, FIXED_TIME)
    return root


def compare(
    src: ImageSource,
    tree: Path,
    *,
    owners: bool = False,
    times: bool = False,
    skip: frozenset[str] = frozenset(),
    modes: bool = True,
) -> int:
    """Assert that ``src`` holds exactly ``tree``: kinds, modes, sizes, bytes, link targets,
    directory listings (ext4's ``lost+found`` aside). Returns the number of entries compared."""
    ref = DirectorySource(tree)
    n = 0
    for path, st in ref.walk():
        if str(path) in skip:
            continue
        got = src.lstat(path)
        assert got.kind is st.kind, path
        if modes:
            assert got.mode == st.mode, (path, oct(got.mode), oct(st.mode))
        if owners:
            assert (got.uid, got.gid) == (st.uid, st.gid), path
        if times:
            assert int(got.mtime) == int(st.mtime), path
        if st.kind is FileKind.FILE:
            assert got.size == st.size, path
            data = src.read_bytes(path)
            assert data == ref.read_bytes(path), path
            if st.size > 10:  # a read from the middle
                assert (
                    src.read_bytes(path, st.size // 3, 7) == data[st.size // 3 : st.size // 3 + 7]
                )
        elif st.kind is FileKind.SYMLINK:
            assert src.readlink(path) == ref.readlink(path), path
        elif st.kind is FileKind.DIR and path != PurePosixPath("/"):
            assert sorted(src.listdir(path)) == sorted(ref.listdir(path)), path
        n += 1
    top = set(src.listdir(PurePosixPath("/"))) - {"lost+found"}
    assert sorted(top) == sorted(ref.listdir(PurePosixPath("/")))
    return n


def run(*argv: str) -> bytes:
    """Run a tool (found in sbin too) and return its stdout."""
    return subprocess.run([find_tool(argv[0]), *argv[1:]], check=True, capture_output=True).stdout


def mode_string(mode: int) -> str:
    """``ls -l`` style permissions, as unsquashfs prints them."""
    return stat.filemode(mode)


def newer_erofs() -> str | None:
    """A mkfs.erofs that knows lzma/deflate/zstd (erofs-utils 1.8+), or None."""
    for cand in (os.environ.get("PORTABLEKIT_MKFS_EROFS"), shutil.which("mkfs.erofs")):
        if not cand:
            continue
        out = subprocess.run([cand, "--help"], capture_output=True, text=True, check=False)
        if "lzma" in out.stdout + out.stderr:
            return cand
    return None


# -- hand-made partition tables (no tools needed) ---------------------------------------------

DATA = Path(__file__).parent / "data/raw"


def tiny(name: str, kind: str = "squashfs") -> bytes:
    """A tiny fixture: ``a``, ``b``, ``c`` (os-release "Tiny A"...) or ``usr`` squashfs;
    ``a`` also as ``ext4`` (gzip-compressed in the repository), ``erofs`` and ``lz4.erofs``."""
    if kind == "ext4":
        return gzip.decompress((DATA / f"tiny-{name}.ext4.gz").read_bytes())
    if kind == "lz4.erofs":
        return (DATA / f"tiny-{name}-lz4.erofs").read_bytes()
    return (DATA / f"tiny-{name}.{kind}").read_bytes()


#: the exceptions a reader may raise on bad input (anything else is a bug)
EXPECTED = (PortableKitError,)


def exercise(data: bytes, *, max_entries: int = 2000, max_read: int = 1 << 16) -> str:
    """Open ``data`` as a raw image and read everything in it (bounded): ``"refused"`` if the
    image is refused, ``"corrupt"`` if reading it stops with an expected error, ``"ok"``."""
    try:
        img = open_raw_image(io.BytesIO(data), label="fuzz.raw")
    except EXPECTED:
        return "refused"
    with img:
        src = img.source
        try:
            for n, (path, st) in enumerate(src.walk()):
                if n >= max_entries:
                    break
                if st.kind is FileKind.FILE:
                    src.read_bytes(path, 0, max_read)
                    src.read_bytes(path, st.size // 2, 100)
                elif st.kind is FileKind.SYMLINK:
                    src.readlink(path)
                    src.exists(path)
        except EXPECTED:
            return "corrupt"
    return "ok"


def craft_gpt(
    parts: list[tuple[str | uuid.UUID, str, int, bytes]],
    *,
    sector: int = 512,
    part_size: int = 64 << 10,
    starts: list[int] | None = None,
) -> bytearray:
    """A GPT disk: ``parts`` are (type UUID, label, attribute bits, content)."""
    ss = sector
    nent, esize = 128, 128
    elbas = nent * esize // ss
    first = 2 + elbas
    first = -(-first * ss // part_size) * part_size // ss  # align partitions
    per = part_size // ss
    begins = starts or [first + i * per for i in range(len(parts))]
    last_part = max([b + per for b in begins], default=first)
    total_lbas = last_part + elbas + 1
    disk = bytearray(total_lbas * ss)
    ents = bytearray(nent * esize)
    for i, ((ptype, label, attrs, content), b) in enumerate(zip(parts, begins, strict=True)):
        e = uuid.UUID(str(ptype)).bytes_le + uuid.UUID(int=i + 1).bytes_le
        e += struct.pack("<QQQ", b, b + per - 1, attrs) + label.encode("utf-16-le").ljust(72, b"\0")
        ents[i * esize : i * esize + 128] = e
        disk[b * ss : b * ss + len(content)] = content
    ecrc = zlib.crc32(ents)
    last = total_lbas - 1

    def header(cur: int, alt: int, entries: int) -> bytes:
        h = bytearray(struct.pack("<8sIII4xQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, cur, alt,
                                  first, last - elbas - 1, uuid.UUID(int=99).bytes_le, entries,
                                  nent, esize, ecrc))  # fmt: skip
        struct.pack_into("<I", h, 16, zlib.crc32(bytes(h)))
        return bytes(h)

    disk[ss : ss + 92] = header(1, last, 2)
    disk[2 * ss : 2 * ss + len(ents)] = ents
    disk[(last - elbas) * ss : (last - elbas) * ss + len(ents)] = ents
    disk[last * ss : last * ss + 92] = header(last, 1, last - elbas)
    pmbr = struct.pack("<B3xB3xII", 0, 0xEE, 1, min(total_lbas - 1, 0xFFFFFFFF))
    disk[446:462] = pmbr
    disk[510:512] = b"\x55\xaa"
    return disk


def craft_mbr(parts: list[tuple[int, int, bytes]], *, part_size: int = 64 << 10) -> bytearray:
    """An MBR disk: ``parts`` are (type byte, boot indicator, content)."""
    per = part_size // 512
    disk = bytearray((1 + len(parts)) * part_size)
    for i, (ptype, boot, content) in enumerate(parts):
        start = (i + 1) * per
        disk[446 + 16 * i : 462 + 16 * i] = struct.pack("<B3xB3xII", boot, ptype, start, per)
        disk[start * 512 : start * 512 + len(content)] = content
    disk[510:512] = b"\x55\xaa"
    return disk
